import fc from 'fast-check';
import t from 'tap';
import { rootAdmin } from '../helpers/admin.ts';
import { buildTestApp } from '../helpers/harness.ts';
import { makeUser } from '../helpers/pat.ts';

// Property-based, with an administrator's credential (so requests get past the guard to validation
// and the services): for every operation the OpenAPI document lists, hostile parameters, queries and
// bodies — built from the names the document declares, so they reach the fields — never produce a
// 5xx, and every error has the documented shape. PGlite only: this exercises validation.

interface Operation {
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
}

const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '%', '_', '\\', '\u0000', 'a\u0000b', '../..', '<script>', "' or 1=1 --", 'x'.repeat(3000), '\ud800', 'alice', 'root', 'cells-sync'),
  fc.constantFrom('7d1c2b9e-0f1e-4a5b-8c6d-2e3f4a5b6c7d', '00000000-0000-0000-0000-000000000000', '99999999999999999999', '-1', '0', '1e9', 'NaN'),
);
// A lone surrogate cannot travel in a URL (encodeURIComponent throws); HTTP would carry U+FFFD.
const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
const value: fc.Arbitrary<unknown> = fc.oneof(nasty, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(nasty, { maxLength: 4 }), fc.dictionary(nasty, nasty, { maxKeys: 3 }));

t.test('hostile input to every admin and /a operation, as an administrator: no 5xx, the error shape', async (t) => {
  const { ctx, app } = await buildTestApp(t, { kind: 'pglite', listen: false });
  const root = await rootAdmin(ctx);
  await makeUser(ctx, 'alice');
  await app.ready();
  const doc = app.swagger() as unknown as { paths: Record<string, Record<string, Operation>> };
  const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method: method.toUpperCase(), op })));
  t.ok(operations.length >= 20, `${operations.length} operations`);

  let runs = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.nat(),
      fc.array(nasty, { minLength: 2, maxLength: 2 }),
      fc.dictionary(fc.oneof(nasty, fc.constantFrom('limit', 'cursor', 'search', 'action', 'since', 'until', 'actor', 'target')), nasty, { maxKeys: 4 }),
      fc.oneof(value, fc.dictionary(fc.oneof(nasty, fc.constantFrom('login', 'password', 'email', 'roles', 'clientId', 'redirectUris', 'secret', 'public')), value, { maxKeys: 5 })),
      fc.boolean(),
      async (pick, pathValues, query, body, declaredKeys) => {
        runs++;
        const { path, method, op } = operations[pick % operations.length]!;
        let i = 0;
        const url = path.replace(/\{\w+\}/g, () => encodeURIComponent(wellFormed(String(pathValues[i++ % 2]))));
        // Half the time, the body uses only the keys the operation declares, so values reach the rules.
        const props = Object.keys(op.requestBody?.content['application/json']?.schema.properties ?? {});
        const payload =
          declaredKeys && props.length && body && typeof body === 'object' && !Array.isArray(body)
            ? Object.fromEntries(Object.values(body as Record<string, unknown>).map((v, k) => [props[k % props.length]!, v]))
            : body;
        const hasBody = method !== 'GET' && method !== 'DELETE';
        const res = await app.inject({
          method: method as 'GET',
          url: `${url}?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [String(k), String(v)]))}`,
          headers: { ...root.auth, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
          payload: hasBody ? JSON.stringify(payload) : undefined,
        });
        if (res.statusCode >= 500) throw new Error(`${res.statusCode} for ${method} ${url}: ${res.body.slice(0, 300)} (body ${JSON.stringify(payload)?.slice(0, 200)})`);
        if (res.statusCode >= 400) {
          const json = res.json() as { error?: unknown; error_description?: unknown };
          if (typeof json.error !== 'string' || typeof json.error_description !== 'string') throw new Error(`malformed error: ${res.body.slice(0, 200)}`);
        }
      },
    ),
    { numRuns: 600 },
  );
  t.ok(runs >= 600, 'ran the property');
  t.ok(await ctx.users.findByLogin('root'), 'the administrator is still there (no self-delete or self-lock got through)');
  t.equal((await ctx.users.findByLogin('root'))!.locked, false);
});
