import t from 'tap';
import fc from 'fast-check';
import { allows, formatScope, parseScopes, ScopeError, type Perm } from '../../src/pat/scopes.ts';

const A = '0b5e0a36-6a3f-4d39-9f39-5c0f2c1f7a11';
const B = '7d1c2b9e-0f1e-4a5b-8c6d-2e3f4a5b6c7d';

t.test('repeatable and comma-separated, merged per node', async (t) => {
  t.same(parseScopes([`node:${A}:r`]), [{ node: A, perm: 'r' }]);
  t.same(parseScopes([`node:${A}:r,node:${B}:rw`]), [{ node: A, perm: 'r' }, { node: B, perm: 'rw' }]);
  t.same(parseScopes([`node:${A}:r`, `node:${A}:w`]), [{ node: A, perm: 'rw' }], 'r + w = rw');
  t.same(parseScopes([`node:${A.toUpperCase()}:w`]), [{ node: A, perm: 'w' }], 'UUIDs are compared in lower case');
  t.same(parseScopes([` node:${A}:r , node:${B}:w `]), [{ node: A, perm: 'r' }, { node: B, perm: 'w' }], 'spaces around items');
  t.same(parseScopes([]), []);
});

t.test('a malformed scope is refused, naming it', async (t) => {
  const bad = [
    `node:${A}`,
    `node:${A}:x`,
    `node:${A}:wr`,
    `node:${A}:R`,
    `node:not-a-uuid:r`,
    `nodes:${A}:r`,
    `${A}:r`,
    `node:${A}:r:extra`,
    'admin',
  ];
  for (const scope of bad) {
    let caught: unknown;
    try {
      parseScopes([`node:${B}:r`, scope]);
    } catch (e) {
      caught = e;
    }
    t.ok(caught instanceof ScopeError && caught.message.includes(JSON.stringify(scope)), `${scope}: ${(caught as Error)?.message}`);
  }
  t.throws(() => parseScopes([`node:${A}:r,`]), /empty item/);
  t.throws(() => parseScopes(['']), /empty item/);
});

t.test('exact node, exact permission', async (t) => {
  const grants = parseScopes([`node:${A}:r`, `node:${B}:rw`]);
  t.ok(allows(grants, A, 'r'));
  t.notOk(allows(grants, A, 'w'));
  t.notOk(allows(grants, A, 'rw'));
  t.ok(allows(grants, B, 'w'));
  t.ok(allows(grants, B, 'rw'));
  t.ok(allows(grants, B.toUpperCase(), 'r'));
  t.notOk(allows(grants, '11111111-1111-4111-8111-111111111111', 'r'), 'another node: no');
  t.notOk(allows(grants, `${A}/child`, 'r'), 'not children');
  t.ok(allows([], A, 'rw'), 'no node scopes: not limited here');
});

const perm = fc.constantFrom<Perm>('r', 'w', 'rw');

t.test('format and parse round-trip; merging never loses a permission (property)', async () => {
  fc.assert(
    fc.property(fc.array(fc.record({ node: fc.uuid(), perm }), { maxLength: 8 }), fc.boolean(), (grants, joined) => {
      const texts = grants.map(formatScope);
      const parsed = parseScopes(joined && texts.length ? [texts.join(',')] : texts);
      for (const g of grants) {
        if (!allows(parsed, g.node, g.perm)) return false;
      }
      return new Set(grants.map((g) => g.node.toLowerCase())).size === parsed.length;
    }),
  );
});

t.test('garbage only ever raises ScopeError (property)', async () => {
  fc.assert(
    fc.property(fc.array(fc.string({ maxLength: 60 }), { maxLength: 3 }), (values) => {
      try {
        parseScopes(values);
        return true;
      } catch (e) {
        return e instanceof ScopeError;
      }
    }),
  );
});
