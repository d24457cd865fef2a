/** The OpenAPI document as the code defines it (the root `openapi.yaml` must equal this). */
import { openStore } from '../catalog/openStore.ts';
import { loadConfig } from '../config/env.ts';
import { projectPath } from '../paths.ts';
import { buildApp } from './app.ts';

export const OPENAPI_FILE = projectPath('openapi.yaml');

/** Builds an app on an empty in-memory catalog (no model needed) and renders its document as YAML. */
export async function generateOpenApi(): Promise<string> {
  const store = await openStore({ DATABASE_URL: '', DATA_DIR: '.' }, { sqlitePath: ':memory:' });
  const app = await buildApp(loadConfig({ LOG_LEVEL: 'silent' }), { store });
  try {
    await app.ready();
    return app.swagger({ yaml: true });
  } finally {
    await app.close();
    await store.close();
  }
}
