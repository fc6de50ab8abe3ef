import t from 'tap';
import { buildTestApp } from '../helpers/harness.ts';

// No user enumeration by timing (STYLE §10): a login that does not exist costs one password hash,
// like a wrong password for one that does. Medians, interleaved, so machine noise hits both alike.

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

t.test('unknown login and wrong password take the same time', async (t) => {
  const { ctx } = await buildTestApp(t, { kind: 'pglite', listen: false, config: { login: { lockoutThreshold: 1000 } } });
  await ctx.users.create({ login: 'grace', password: 'correct horse battery' });
  const known: number[] = [];
  const unknown: number[] = [];
  const time = async (login: string) => {
    const start = process.hrtime.bigint();
    const r = await ctx.users.authenticate(login, 'wrong password guess');
    t.equal(r.ok, false);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  await time('grace'); // warm-up: the dummy hash is computed on first use
  await time('nobody');
  for (let i = 0; i < 15; i++) {
    known.push(await time('grace'));
    unknown.push(await time(`nobody-${i}`));
  }
  const k = median(known);
  const u = median(unknown);
  t.comment(`median: existing login ${k.toFixed(1)} ms, unknown login ${u.toFixed(1)} ms`);
  t.ok(u > k * 0.5 && u < k * 1.5, `within 50% of each other (${k.toFixed(1)} vs ${u.toFixed(1)} ms)`);
  // The hash dominates: had the unknown path skipped it, it would be far under a millisecond or two.
  t.ok(u > 5, 'the unknown-login path pays for a password hash');
});
