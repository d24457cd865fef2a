/**
 * Tests that start the server as a process run what `npm start` runs: the compiled build in
 * dist/node. Compile it once per test run (incremental: seconds when little changed), so those
 * tests never see a stale build.
 */
import { execFileSync } from 'node:child_process';
import { projectPath } from '../src/paths.ts';

export default function setup(): void {
  execFileSync(
    process.execPath,
    [projectPath('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: projectPath(),
      stdio: 'inherit',
    },
  );
}
