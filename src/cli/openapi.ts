/**
 * `npm run openapi`: writes the root `openapi.yaml` from the route schemas,
 * and the typed client's `client/schema.ts` from that document.
 * `npm run openapi -- --check` exits 1 when either file is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { generateOpenApi, OPENAPI_FILE } from '../server/openapi.ts';
import { CLIENT_SCHEMA_FILE, generateClientSchema } from './clientSchema.ts';

const yaml = await generateOpenApi();
const files = [
  { path: OPENAPI_FILE, text: yaml },
  { path: CLIENT_SCHEMA_FILE, text: await generateClientSchema(yaml) },
];
const read = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return ''; // A missing file is simply out of date.
  }
};
if (process.argv.includes('--check')) {
  const stale = files.filter((f) => read(f.path) !== f.text).map((f) => f.path);
  if (stale.length > 0) {
    console.error(`out of date: ${stale.join(', ')}: run npm run openapi`);
    process.exit(1);
  }
  console.log('openapi.yaml and the client schema are up to date');
} else {
  for (const f of files) {
    writeFileSync(f.path, f.text);
    console.log(`wrote ${f.path} (${f.text.length} bytes)`);
  }
}
