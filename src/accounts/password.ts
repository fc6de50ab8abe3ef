import { availableParallelism } from 'node:os';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { bounded } from '../util/bounded.ts';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
}

export interface Argon2Params {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

/** argon2id; the configuration refuses parameters below OWASP's minimum (m=19 MiB, t=2, p=1). */
export function createArgon2Hasher(params: Argon2Params, opts: { concurrency?: number } = {}): PasswordHasher {
  // No `algorithm`: the library's default is argon2id (its type is a const enum, which type stripping
  // cannot read); the password test checks every new hash says argon2id.
  const options = {
    memoryCost: params.memoryKiB,
    timeCost: params.iterations,
    parallelism: params.parallelism,
  } as const;
  // Each hash holds its memory cost (19 MiB by default) while it runs, and more hashes than cores
  // at once finish no sooner: the bound caps the memory a burst of sign-ins takes. One core is left
  // to the event loop (and, on a small machine, the database): on 2 shared cores, one hash at a time
  // signed in as many people a second as two (argon2id sign-ins, quick bench, alternating builds:
  // 4.6-5.1x Keycloak's figure per core against 4.0-4.9x), with a peak 19 MiB lower.
  const limit = opts.concurrency ?? Math.max(1, availableParallelism() - 1);
  const verify = bounded(limit, (hash: string, password: string) => argon2Verify(hash, password));
  return {
    hash: bounded(limit, (password: string) => argon2Hash(password, options)),
    async verify(hash, password) {
      try {
        return await verify(hash, password);
      } catch {
        // A malformed stored hash is a failed login, never a crash.
        return false;
      }
    },
  };
}
