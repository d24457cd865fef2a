/**
 * Admin routes (bearer token, see plugins/auth.ts): add and delete catalog
 * items live, rebuild the index, follow rebuild jobs.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NotFoundError, UnsupportedMediaTypeError, ValidationError } from '../../errors.ts';
import { parseAttributes, parseAttributesJson } from '../../search/attributes.ts';
import { JobConflictError } from '../../serving/jobs.ts';
import { isMultipart, readImageUpload, requireJson } from '../imageInput.ts';
import { presentItem } from '../present.ts';
import {
  errors,
  Item,
  ItemParams,
  ItemUpdateBody,
  Job,
  JobConflict,
  JobParams,
  MAX_ATTRIBUTES_FIELD,
  NewItemBodyDoc,
  NewItemFields,
  RebuildBody,
} from '../schemas.ts';
import { checkSchema } from '../validate.ts';

const security = [{ bearer: [] }];

function validateFields(fields: Record<string, string>): NewItemFields {
  const unknown = Object.keys(fields).filter((name) => !(name in NewItemFields.properties));
  if (unknown.length > 0) {
    throw new ValidationError(`unknown form field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  }
  return checkSchema(NewItemFields, fields, 'form field');
}

export const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/items',
    {
      onRequest: app.requireAdmin,
      schema: {
        summary: 'Add an item (admin): embedded and searchable at once',
        tags: ['admin'],
        security,
        response: { 201: Item, ...errors(400, 401, 403, 409, 413, 415, 422, 503) },
      },
      config: {
        swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, body: NewItemBodyDoc }, url }),
      },
    },
    async (request, reply) => {
      if (!isMultipart(request)) {
        throw new UnsupportedMediaTypeError('send the item as multipart/form-data with an `image` file');
      }
      const { bytes, fields } = readImageUpload(request, {
        maxBytes: app.config.BODY_LIMIT_BYTES,
        maxFieldBytes: MAX_ATTRIBUTES_FIELD,
      });
      const { attributes, ...meta } = validateFields(fields);
      const item = await app.catalog.add({
        ...meta,
        attributes: attributes === undefined ? undefined : parseAttributesJson(attributes),
        image: bytes,
      });
      return reply
        .status(201)
        .header('location', `/items/${encodeURIComponent(item.id)}`)
        .send(presentItem(item));
    },
  );

  app.patch(
    '/items/:id',
    {
      onRequest: app.requireAdmin,
      schema: {
        summary: "Change an item's title, category or attributes (admin), without re-embedding",
        tags: ['admin'],
        security,
        params: ItemParams,
        body: ItemUpdateBody,
        response: { 200: Item, ...errors(400, 401, 403, 404, 415, 503) },
      },
      preValidation: requireJson,
    },
    async (request) => {
      const { attributes, ...rest } = request.body;
      const update = attributes === undefined ? rest : { ...rest, attributes: parseAttributes(attributes) };
      return presentItem(await app.catalog.update(request.params.id, update));
    },
  );

  app.delete(
    '/items/:id',
    {
      onRequest: app.requireAdmin,
      schema: {
        summary: 'Delete an item (admin): gone from search at once',
        tags: ['admin'],
        security,
        params: ItemParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...errors(400, 401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      await app.catalog.delete(request.params.id);
      return reply.status(204).send(null);
    },
  );

  /** A model name beside MODEL_DIR (`models/<name>`); must hold a saved model. */
  function modelDirFor(name: string): string {
    const dir = join(dirname(resolve(app.config.MODEL_DIR)), name);
    if (!existsSync(join(dir, 'model.json'))) {
      throw new NotFoundError(`no saved model '${name}' (looked for ${dir}/model.json)`, 'MODEL_NOT_FOUND');
    }
    return dir;
  }

  app.post(
    '/admin/index/rebuild',
    {
      onRequest: app.requireAdmin,
      schema: {
        summary: 'Rebuild the index (admin), optionally with another saved model',
        description:
          'Embeds the catalog with the model (only items without an embedding for it), builds and verifies a new HNSW index, then swaps model and index in together; until then the current ones keep serving. Answers 202 with the job at once; 409 with the running job while one runs.',
        tags: ['admin'],
        security,
        body: RebuildBody,
        response: { 202: Job, 409: JobConflict, ...errors(400, 401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      const name = request.body?.model ?? null;
      const model = name === null ? null : { name, dir: modelDirFor(name) };
      try {
        const job = await app.jobs.start(model);
        request.log.info({ job: job.id, model }, 'index rebuild started');
        return reply.status(202).header('location', `/admin/jobs/${job.id}`).send(job);
      } catch (err) {
        if (!(err instanceof JobConflictError)) throw err;
        return reply.status(409).send({ error: { code: err.code, message: err.message }, job: err.job });
      }
    },
  );

  app.get(
    '/admin/jobs/:id',
    {
      onRequest: app.requireAdmin,
      schema: {
        summary: 'Status, progress and error of a job (admin)',
        tags: ['admin'],
        security,
        params: JobParams,
        response: { 200: Job, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      return app.jobs.get(request.params.id);
    },
  );
};
