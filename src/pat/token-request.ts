import { ValidationError } from '../errors/app-error.ts';
import { DurationError, parseExpire, parseWindow } from './duration.ts';
import { parseScopes, ScopeError, type NodeGrant } from './scopes.ts';

/** What a mint asks for, in the CLI's and the API's shared grammar (SPEC §6.1). */
export interface RawTokenRequest {
  expire?: string;
  auto?: string | number;
  scopes?: string | readonly string[];
}

export interface TokenRequest {
  /** Hard lifetime from now, seconds; null when the token only slides. */
  expireSeconds: number | null;
  /** Sliding window, seconds; null for a fixed expiry. */
  windowSeconds: number | null;
  grants: NodeGrant[];
}

/** Parses a mint request; every refusal is a ValidationError naming the field (`expire`, `auto`, `scopes`). */
export function parseTokenRequest(raw: RawTokenRequest): TokenRequest {
  const field = <T>(name: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof DurationError || err instanceof ScopeError) throw new ValidationError(name, err.message);
      throw err;
    }
  };
  const hasExpire = raw.expire !== undefined && raw.expire !== '';
  const hasAuto = raw.auto !== undefined && raw.auto !== '';
  if (!hasExpire && !hasAuto) throw new ValidationError('expire', 'give a hard expiry (expire), a sliding window (auto), or both');
  const expireSeconds = hasExpire ? field('expire', () => parseExpire(raw.expire!)) : null;
  const windowSeconds = hasAuto ? field('auto', () => parseWindow(raw.auto!)) : null;
  const scopes = raw.scopes === undefined ? [] : typeof raw.scopes === 'string' ? [raw.scopes] : raw.scopes;
  const grants = field('scopes', () => parseScopes(scopes));
  return { expireSeconds, windowSeconds, grants };
}
