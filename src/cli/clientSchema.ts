/** The typed client's schema (`client/schema.ts`): openapi-typescript's types of `openapi.yaml`. */
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { parse } from 'yaml';

export const CLIENT_SCHEMA_FILE = fileURLToPath(new URL('../../client/schema.ts', import.meta.url));

export async function generateClientSchema(openapiYaml: string): Promise<string> {
  const ast = await openapiTS(parse(openapiYaml) as Parameters<typeof openapiTS>[0]);
  return `${astToString(ast)}`;
}
