/** The typed client's schema (`client/schema.ts`): openapi-typescript's types of `openapi.yaml`. */
import openapiTS, { astToString } from 'openapi-typescript';
import { parse } from 'yaml';
import { projectPath } from '../paths.ts';

export const CLIENT_SCHEMA_FILE = projectPath('client', 'schema.ts');

export async function generateClientSchema(openapiYaml: string): Promise<string> {
  const ast = await openapiTS(parse(openapiYaml) as Parameters<typeof openapiTS>[0]);
  return `${astToString(ast)}`;
}
