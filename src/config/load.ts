import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configSchema, TLS_MODE_KEYS, type Config } from './schema.ts';

export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL('../../config/default.yaml', import.meta.url));
/** Where `cells-auth config tls` writes without --config; the commands read it when it exists. */
export const LOCAL_CONFIG_FILE = fileURLToPath(new URL('../../config/local.yaml', import.meta.url));

/** A setting that cannot be used. Its message is one line naming the setting. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;
type Tree = Record<string, unknown>;

// SPEC §10: environment variables override both files. Each maps onto one path of the schema.
const ENV_PATHS: Record<string, string[]> = {
  CELLS_AUTH_PUBLIC_URL: ['publicUrl'],
  CELLS_AUTH_BIND: ['bind'],
  CELLS_AUTH_DATA_DIR: ['dataDir'],
  DATABASE_URL: ['database', 'url'],
  CELLS_AUTH_TLS_MODE: ['tls', 'mode'],
  CELLS_AUTH_TLS_CERT_FILE: ['tls', 'certFile'],
  CELLS_AUTH_TLS_KEY_FILE: ['tls', 'keyFile'],
  CELLS_AUTH_ACME_EMAIL: ['tls', 'email'],
  CELLS_AUTH_ACME_ACCEPT_TOS: ['tls', 'acceptTos'],
  CELLS_AUTH_ACME_DIRECTORY: ['tls', 'directory'],
  CELLS_AUTH_ADMIN_PASSWORD: ['adminPassword'],
  CELLS_AUTH_LOG_LEVEL: ['log', 'level'],
  CELLS_AUTH_BUILD_REVISION: ['buildRevision'],
  CELLS_AUTH_PAT_CACHE_SIZE: ['pat', 'cacheSize'],
};
const BOOLEAN_ENV = new Set(['CELLS_AUTH_ACME_ACCEPT_TOS']);
const INTEGER_ENV = new Set(['CELLS_AUTH_PAT_CACHE_SIZE']);

function readYaml(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config: ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (value == null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`config: ${file} must hold a mapping`);
  return value as Tree;
}

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isTree(v) && isTree(out[k]) ? merge(out[k] as Tree, v) : v;
  }
  return out;
}

function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    if (!isTree(node[key])) node[key] = {};
    node = node[key] as Tree;
  }
  node[path[path.length - 1]!] = value;
}

function envLayer(env: Env): Tree {
  const layer: Tree = {};
  for (const [name, path] of Object.entries(ENV_PATHS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (BOOLEAN_ENV.has(name)) {
      if (!/^(true|false|1|0|yes|no)$/i.test(raw)) throw new ConfigError(`config: ${name}: expected true or false, got "${raw}"`);
      value = /^(true|1|yes)$/i.test(raw);
    }
    if (INTEGER_ENV.has(name)) {
      if (!/^\d+$/.test(raw)) throw new ConfigError(`config: ${name}: expected a whole number, got "${raw}"`);
      value = Number(raw);
    }
    setPath(layer, path, value);
  }
  return layer;
}

// Keys of another TLS mode are inactive, not wrong: the mode may have been switched by an
// environment variable over a file written for another one (CELLS_AUTH_TLS_MODE=none over a file
// with tls.certFile), so they are dropped before the strict check.
const ALL_TLS_KEYS = new Set(Object.values(TLS_MODE_KEYS).flat());

function dropInactiveTlsKeys(tree: Tree): Tree {
  const tls = tree.tls;
  if (!isTree(tls) || typeof tls.mode !== 'string' || !TLS_MODE_KEYS[tls.mode]) return tree;
  const active = new Set(TLS_MODE_KEYS[tls.mode]);
  return { ...tree, tls: Object.fromEntries(Object.entries(tls).filter(([k]) => active.has(k) || !ALL_TLS_KEYS.has(k))) };
}

/** The keys the schema knows at `path` of the (merged) settings, for an "unknown setting" message. */
function knownKeys(path: PropertyKey[], tree: Tree): string[] {
  let schema: z.ZodType = configSchema;
  let node: unknown = tree;
  for (const key of [...path, undefined]) {
    // Through defaults and optionals to the object (or, for tls, the variant of the mode given).
    for (;;) {
      if (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) schema = schema.unwrap() as z.ZodType;
      else if (schema instanceof z.ZodDiscriminatedUnion) {
        const mode = isTree(node) ? node.mode : undefined;
        const variant = (schema.options as z.ZodObject[]).find((o) => (o.shape.mode as z.ZodLiteral).value === mode);
        if (!variant) return [];
        schema = variant;
      } else break;
    }
    if (!(schema instanceof z.ZodObject)) return [];
    if (key === undefined) return Object.keys(schema.shape);
    schema = schema.shape[String(key)] as z.ZodType;
    node = isTree(node) ? node[String(key)] : undefined;
    if (!schema) return [];
  }
  return [];
}

/** One line for the first problem zod found, naming the setting. */
export function describeIssue(error: z.ZodError, tree: Tree = {}): string {
  const issue = error.issues[0]!;
  const path = issue.path.join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length ? `${path}: ` : '';
    const keys = issue.keys.map((k) => `"${k}"`).join(', ');
    const known = knownKeys(issue.path, tree);
    return `config: ${where}unknown setting${issue.keys.length > 1 ? 's' : ''} ${keys}${known.length ? ` (known here: ${known.join(', ')})` : ''}`;
  }
  return `config: ${path}: ${issue.message}`;
}

export interface LoadOptions {
  env?: Env;
  /** A file that overrides config/default.yaml (--config or CELLS_AUTH_CONFIG). */
  file?: string;
  /** Settings applied last; used by tests and by commands that take flags. */
  overrides?: Tree;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? {};
  let tree = readYaml(DEFAULT_CONFIG_FILE);
  const file = options.file ?? env.CELLS_AUTH_CONFIG;
  if (file) tree = merge(tree, readYaml(file));
  tree = merge(tree, envLayer(env));
  if (options.overrides) tree = merge(tree, options.overrides);
  tree = dropInactiveTlsKeys(tree);
  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) throw new ConfigError(describeIssue(parsed.error, tree));
  const config = parsed.data;
  config.dataDir = resolve(config.dataDir);
  return config;
}
