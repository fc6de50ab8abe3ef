import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Clock } from '../util/clock.ts';
import type { KeysRepository, SigningKeyRow } from './keys.repository.ts';

const ALG = 'RS256';

async function newSigningKey(): Promise<{ kid: string; jwk: JWK }> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, jwk: { ...jwk, kid, alg: ALG, use: 'sig' } };
}

export interface KeySet {
  /** Private JWKs in the order the provider needs: the signing key first. */
  jwks: { keys: JWK[] };
  cookieKeys: string[];
}

export interface KeySummary {
  kid: string;
  alg: string;
  state: SigningKeyRow['state'];
  createdAt: string;
  activatedAt: string | null;
  retiredAt: string | null;
  publishUntil: string | null;
}

/**
 * Signing and cookie keys, created once and kept in the database so that every instance signs with
 * the same key. SPEC §5: a rotation publishes the next key before it signs (there is always one
 * `next` key in the JWKS) and keeps the retired key published until the longest token it signed
 * has expired.
 */
export function createKeysService(deps: { repo: KeysRepository; clock: Clock; longestTokenSeconds: number }) {
  const { repo, clock, longestTokenSeconds } = deps;
  const now = () => new Date(clock.now());

  async function ensure(): Promise<void> {
    await repo.db.transaction().execute(async (trx) => {
      await repo.lock(trx);
      const keys = await repo.listAll(trx);
      if (!keys.some((k) => k.state === 'active')) {
        const k = await newSigningKey();
        await repo.insert(trx, { kid: k.kid, alg: ALG, jwk: k.jwk as Record<string, unknown>, state: 'active', now: now() });
      }
      if (!keys.some((k) => k.state === 'next')) {
        const k = await newSigningKey();
        await repo.insert(trx, { kid: k.kid, alg: ALG, jwk: k.jwk as Record<string, unknown>, state: 'next', now: new Date(clock.now() + 1) });
      }
      if ((await repo.cookieKeys(trx)).length === 0) {
        await repo.insertCookieKey(trx, randomBytes(32).toString('base64url'));
      }
    });
  }

  async function load(): Promise<KeySet> {
    const rows = await repo.listPublished(repo.db, now());
    const rank = { active: 0, next: 1, retired: 2 } as const;
    rows.sort((a, b) => rank[a.state] - rank[b.state]);
    const cookies = await repo.cookieKeys(repo.db);
    return {
      jwks: { keys: rows.map((r) => r.private_jwk as JWK) },
      cookieKeys: cookies.map((c) => c.secret),
    };
  }

  /** next → active, active → retired (published until its tokens expire), and a new next. */
  async function rotate(): Promise<{ activated: string; retired: string | null; next: string }> {
    return repo.db.transaction().execute(async (trx) => {
      await repo.lock(trx);
      const keys = await repo.listAll(trx);
      const active = keys.find((k) => k.state === 'active');
      let next = keys.find((k) => k.state === 'next');
      const t = now();
      if (!next) {
        const k = await newSigningKey();
        await repo.insert(trx, { kid: k.kid, alg: ALG, jwk: k.jwk as Record<string, unknown>, state: 'next', now: t });
        next = { kid: k.kid } as SigningKeyRow;
      }
      if (active) await repo.retire(trx, active.kid, t, new Date(t.getTime() + longestTokenSeconds * 1000));
      await repo.activate(trx, next.kid, t);
      const fresh = await newSigningKey();
      await repo.insert(trx, { kid: fresh.kid, alg: ALG, jwk: fresh.jwk as Record<string, unknown>, state: 'next', now: new Date(t.getTime() + 1) });
      return { activated: next.kid, retired: active?.kid ?? null, next: fresh.kid };
    });
  }

  async function list(): Promise<KeySummary[]> {
    const rows = await repo.listAll(repo.db);
    return rows.map((r) => ({
      kid: r.kid,
      alg: r.alg,
      state: r.state,
      createdAt: r.created_at.toISOString(),
      activatedAt: r.activated_at?.toISOString() ?? null,
      retiredAt: r.retired_at?.toISOString() ?? null,
      publishUntil: r.publish_until?.toISOString() ?? null,
    }));
  }

  return { ensure, load, rotate, list, version: () => repo.version(repo.db) };
}

export type KeysService = ReturnType<typeof createKeysService>;
