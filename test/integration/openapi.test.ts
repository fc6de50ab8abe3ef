import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';
import { generateOpenApiYaml } from '../../src/openapi/generate.ts';
import { call } from '../helpers/admin.ts';
import { dbKinds } from '../helpers/database.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { accessTokenFor, bearer, makeUser, mintFor } from '../helpers/pat.ts';

const COMMITTED = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));
const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

interface Operation {
  operationId?: string;
  summary?: string;
  security?: Array<Record<string, string[]>>;
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
}
type Document = { openapi: string; paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>; components: { schemas: Record<string, unknown> } };

/** "METHOD /path" for every route Fastify prints, HEAD left out (Fastify adds it to every GET). */
function fastifyRoutes(printed: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of printed.split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD')) out.push(`${method} ${stack.join('')}`);
  }
  return out.sort();
}

/** "METHOD /path" for every operation of the document, with Fastify's `:param` syntax. */
function documented(doc: Document): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) if (item[method]) out.push(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
  }
  return out.sort();
}

t.test('openapi.yaml is what the routes generate (run `npm run openapi` after changing a route)', async (t) => {
  const generated = await generateOpenApiYaml();
  const committed = readFileSync(COMMITTED, 'utf8');
  t.ok(generated === committed, 'the committed document matches the routes');
  if (generated !== committed) {
    const a = generated.split('\n');
    const b = committed.split('\n');
    const at = a.findIndex((line, i) => line !== b[i]);
    t.comment(`first difference at line ${at + 1}:\n  generated: ${a[at]}\n  committed: ${b[at]}`);
  }
});

for (const kind of dbKinds()) {
  t.test(`GET /a/openapi.yaml: OpenAPI 3.1 of every /a route, public, the committed file [${kind}]`, async (t) => {
    const { app, url } = await buildTestApp(t, { kind });
    const res = await fetch(`${url}/a/openapi.yaml`);
    t.equal(res.status, 200, 'no credential needed');
    t.match(res.headers.get('content-type'), /^application\/yaml/);
    const text = await res.text();
    t.equal(text, readFileSync(COMMITTED, 'utf8'), 'the same document as the committed file (nothing in it depends on settings)');
    const doc = parse(text) as Document;
    t.match(doc.openapi, /^3\.1\.\d+$/);

    const routes = fastifyRoutes(app.printRoutes({ commonPrefix: false }));
    t.ok(routes.includes('DELETE /a/admin/users/:login') && routes.includes('GET /healthz'), 'the route listing parses');
    const ours = routes.filter((r) => / \/a\//.test(r));
    t.same(documented(doc), ours, 'every /a route is documented, and nothing else');
    t.notOk(documented(doc).some((r) => / \/(oidc|interaction|healthz|readyz|metrics)/.test(r)), 'pages, probes and the provider are not in it');

    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const name = `${method.toUpperCase()} ${path}`;
        t.ok(op.operationId && op.summary, `${name}: operationId and summary`);
        t.ok(Array.isArray(op.security), `${name}: states its security`);
        if (path.startsWith('/a/admin/')) {
          t.same(op.security, [{ bearer: [] }], `${name}: bearer`);
          for (const status of ['401', '403', '503']) {
            t.same(op.responses[status]?.content?.['application/json']?.schema, { $ref: '#/components/schemas/Error' }, `${name}: ${status} is an Error`);
          }
        }
        for (const [status, response] of Object.entries(op.responses)) {
          t.ok(response.description && response.description !== 'Default Response', `${name} ${status}: described`);
          if (Number(status) >= 400) t.ok(response.content?.['application/json'], `${name} ${status}: a JSON error body`);
        }
      }
    }
    const refs = new Set(text.match(/#\/components\/schemas\/\w+/g));
    for (const name of Object.keys(doc.components.schemas)) t.ok(refs.has(`#/components/schemas/${name}`), `component ${name} is used`);
    for (const ref of refs) t.ok(doc.components.schemas[ref.split('/').pop()!], `${ref} exists`);
  });

  t.test(`every documented admin operation answers its documented 401 and 403 [${kind}]`, async (t) => {
    const { ctx, app, url } = await buildTestApp(t, { kind });
    const root = await makeUser(ctx, 'root', { admin: true });
    await makeUser(ctx, 'alice');
    const notAdmin = bearer(await accessTokenFor(url, 'alice'));
    const alicePat = bearer((await mintFor(ctx, (await ctx.users.findByLogin('alice'))!.id, { expire: '1h' })).token);
    const scoped = bearer((await mintFor(ctx, root.id, { expire: '1h', scopes: 'node:0b5e0a36-6a3f-4d39-9f39-5c0f2c1f7a11:rw' })).token);
    const doc = app.swagger() as unknown as Document;
    const before = await ctx.audit.list({ limit: 1000 });
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!path.startsWith('/a/admin/')) continue;
      const concrete = path.replace('{login}', 'alice').replace('{id}', '7d1c2b9e-0f1e-4a5b-8c6d-2e3f4a5b6c7d');
      for (const method of METHODS) {
        if (!item[method]) continue;
        const body = method === 'get' || method === 'delete' ? undefined : {};
        const name = `${method.toUpperCase()} ${path}`;
        const none = await call(url, method.toUpperCase(), concrete, {}, body);
        t.equal(none.status, 401, `${name}: no credential → 401`);
        t.match(none.headers.get('www-authenticate'), /^Bearer /, `${name}: with a challenge`);
        for (const [who, auth] of [['a user who is not an admin (access token)', notAdmin], ['a user who is not an admin (PAT)', alicePat], ['an admin’s PAT limited to nodes', scoped]] as const) {
          const res = await call(url, method.toUpperCase(), concrete, auth, body);
          t.equal(res.status, 403, `${name}: ${who} → 403`);
          t.match(res.body, { error: String, error_description: String });
        }
        checked++;
      }
    }
    t.ok(checked >= 12, `${checked} admin operations checked`);
    t.ok(await ctx.users.findByLogin('alice'), 'nothing happened to alice');
    t.same(await ctx.audit.list({ limit: 1000 }), before, 'and nothing was audited: nothing changed');
  });
}
