/**
 * `npm run openapi`: writes the root `openapi.yaml` from the route schemas.
 * `npm run openapi -- --check` exits 1 when the file is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { generateOpenApi, OPENAPI_FILE } from '../server/openapi.ts';

const yaml = await generateOpenApi();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(OPENAPI_FILE, 'utf8');
  } catch {
    // A missing file is simply out of date.
  }
  if (current !== yaml) {
    console.error(`${OPENAPI_FILE} is out of date: run npm run openapi`);
    process.exit(1);
  }
  console.log(`${OPENAPI_FILE} is up to date`);
} else {
  writeFileSync(OPENAPI_FILE, yaml);
  console.log(`wrote ${OPENAPI_FILE} (${yaml.length} bytes)`);
}
