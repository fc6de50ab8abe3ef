import swagger, { type SwaggerTransform, type SwaggerTransformObject } from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import pkg from '../../package.json' with { type: 'json' };
import { publicRoute } from './security.ts';

// The OpenAPI 3.1 document of our JSON APIs (everything under /a), produced from the zod guards the
// routes validate with (STYLE: zod is the single source). @fastify/swagger collects routes as they
// are added, so this plugin is registered before any of them; `npm run openapi` writes the same
// document to openapi.yaml, and a test fails when the two drift.

export const OPENAPI_PATH = '/a/openapi.yaml';

const DESCRIPTION = `The JSON APIs of cells-auth, an OAuth 2.0 / OpenID Connect server for Pydio Cells clients.

- \`/a/admin/…\`: the operators' API. Bearer of an account with the \`admin\` role: an OIDC access token or a personal access token (PAT) without node scopes.
- \`/a/auth/…\`: a signed-in user's own tokens, and the forward-auth check for reverse proxies.

The OIDC endpoints themselves live under \`/oidc\` (see \`/oidc/.well-known/openid-configuration\`). Errors are \`{ "error", "error_description" }\`; a field that does not validate is named at the start of the description.`;

/** Only our JSON APIs are documented: pages, probes and the provider are not part of the contract. */
const transform: SwaggerTransform = (route) => (route.url.startsWith('/a/') ? jsonSchemaTransform(route as never) : { schema: { hide: true }, url: route.url });

/** Every `$ref` target reachable from a value. */
function collectRefs(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) for (const v of value) collectRefs(v, into);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') into.add(v);
      else collectRefs(v, into);
    }
  }
}

/**
 * The zod registry yields an input and an output variant of every named schema; keep the ones the
 * document uses (and those they use), so the file reads as the API and not as the registry.
 */
const transformObject: SwaggerTransformObject = (documentObject) => {
  const doc = jsonSchemaTransformObject(documentObject) as { paths?: unknown; components?: { schemas?: Record<string, unknown> } };
  const schemas = doc.components?.schemas ?? {};
  const used = new Set<string>();
  collectRefs(doc.paths, used);
  for (let grew = true; grew; ) {
    const before = used.size;
    for (const ref of [...used]) collectRefs(schemas[ref.replace('#/components/schemas/', '')], used);
    grew = used.size > before;
  }
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(`#/components/schemas/${name}`)));
  return { ...doc, components: { ...doc.components, schemas: kept } } as ReturnType<SwaggerTransformObject>;
};

async function openapiPlugin(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'cells-auth', version: pkg.version, description: DESCRIPTION, license: { name: pkg.license, identifier: pkg.license } },
      tags: [
        { name: 'users', description: 'accounts (operators)' },
        { name: 'clients', description: 'OAuth clients (operators)' },
        { name: 'tokens', description: 'personal access tokens' },
        { name: 'keys', description: 'signing keys (operators)' },
        { name: 'audit', description: 'the audit trail (operators)' },
        { name: 'auth', description: 'a signed-in user, and forward-auth for reverse proxies' },
        { name: 'meta', description: 'where everything is, and this document' },
      ],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'an OIDC access token from /oidc/oauth2/token, or a personal access token' },
          basic: { type: 'http', scheme: 'basic', description: 'login:PAT (forward-auth only; a password is never accepted here)' },
        },
      },
    },
    transform,
    transformObject,
  });

  app.withTypeProvider<ZodTypeProvider>().get(
    OPENAPI_PATH,
    {
      schema: {
        tags: ['meta'],
        operationId: 'getOpenApiDocument',
        summary: 'This OpenAPI document',
        security: publicRoute(),
        response: { 200: { description: 'the OpenAPI 3.1 document', content: { 'application/yaml': { schema: z.string() } } } },
      },
    },
    async (_request, reply) => reply.type('application/yaml').send(app.swagger({ yaml: true })),
  );
}

export default fp(openapiPlugin, { name: 'openapi' });
