/** The OpenAPI document (`/openapi.yaml`, generated from the route schemas) and its rendered reference (`/docs`). */
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export const docsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  let yaml: string | null = null;
  app.get(
    '/openapi.yaml',
    {
      schema: {
        summary: 'This OpenAPI document (the repository root `openapi.yaml`)',
        tags: ['docs'],
        produces: ['application/yaml'],
        response: { 200: { type: 'string', description: 'OpenAPI 3 document, YAML' } },
      },
    },
    async (_request, reply) => {
      yaml ??= app.swagger({ yaml: true });
      return reply.type('application/yaml; charset=utf-8').send(yaml);
    },
  );
  // The UI's assets ship inside the package: the reference works offline.
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { url: '/openapi.yaml' } });
};
