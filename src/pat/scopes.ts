// SPEC §6.1 node scopes: `node:NODE_UUID:PERM`, PERM `r`, `w` or `rw`, given repeatedly or
// comma-separated. A token with node scopes may act only on those exact nodes (not their children)
// with those permissions; a token without any acts with its owner's full rights.

export type Perm = 'r' | 'w' | 'rw';

export interface NodeGrant {
  node: string; // lower-case UUID
  perm: Perm;
}

export class ScopeError extends Error {
  override name = 'ScopeError';
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const PERMS: readonly Perm[] = ['r', 'w', 'rw'];

export function isPerm(value: string): value is Perm {
  return (PERMS as readonly string[]).includes(value);
}

function merge(a: Perm, b: Perm): Perm {
  return a === b ? a : 'rw';
}

function parseOne(scope: string): NodeGrant {
  const quoted = JSON.stringify(scope);
  const parts = scope.split(':');
  if (parts.length !== 3 || parts[0] !== 'node') {
    throw new ScopeError(`scope ${quoted} is malformed: expected node:NODE_UUID:PERM`);
  }
  const [, node = '', perm = ''] = parts;
  if (!UUID.test(node)) throw new ScopeError(`scope ${quoted} is malformed: ${JSON.stringify(node)} is not a node UUID`);
  if (!isPerm(perm)) throw new ScopeError(`scope ${quoted} is malformed: permission must be r, w or rw`);
  return { node: node.toLowerCase(), perm };
}

/**
 * Every `-s` value (each may hold several, comma-separated) to one grant per node; two grants of one
 * node add up (`r` + `w` = `rw`). Blank items are refused, so that `-s ''` is not a silent no-op.
 */
export function parseScopes(values: readonly string[]): NodeGrant[] {
  const byNode = new Map<string, Perm>();
  for (const value of values) {
    for (const item of value.split(',')) {
      const scope = item.trim();
      if (scope === '') throw new ScopeError(`scope list ${JSON.stringify(value)} has an empty item`);
      const grant = parseOne(scope);
      const had = byNode.get(grant.node);
      byNode.set(grant.node, had ? merge(had, grant.perm) : grant.perm);
    }
  }
  return [...byNode].sort(([a], [b]) => a.localeCompare(b)).map(([node, perm]) => ({ node, perm }));
}

export function formatScope(grant: NodeGrant): string {
  return `node:${grant.node}:${grant.perm}`;
}

/**
 * Whether grants allow `perm` on `node`. No grants: not limited by this check (the owner's own rights
 * apply downstream). Exact node only: a grant on a folder says nothing about what is inside it.
 */
export function allows(grants: readonly NodeGrant[], node: string, perm: Perm): boolean {
  if (grants.length === 0) return true;
  const granted = grants.find((g) => g.node === node.toLowerCase())?.perm;
  if (!granted) return false;
  return granted === 'rw' || granted === perm;
}
