import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Document, isMap, parseDocument, YAMLMap } from 'yaml';
import { ConfigError, loadConfig } from './load.ts';
import { TLS_MODE_KEYS, type Config } from './schema.ts';

// Writes a TLS choice (`cells-auth config tls`) into a settings file through the yaml Document API, so
// that the operator's comments, key order and other settings stay as they were.

/** A TLS mode and its settings, as the command collected them. */
export type TlsChoice =
  | { mode: 'none' }
  | { mode: 'file'; certFile: string; keyFile: string }
  | { mode: 'self'; hosts: string[] }
  | { mode: 'letsencrypt'; email: string; acceptTos: true; directory: string };


async function readDocument(file: string): Promise<{ doc: Document; mode?: number }> {
  let text: string;
  let mode: number | undefined;
  try {
    text = await readFile(file, 'utf8');
    mode = (await stat(file)).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code})`);
    const doc = new Document(new YAMLMap());
    doc.commentBefore = ' cells-auth settings: they override config/default.yaml; environment variables override both.';
    return { doc };
  }
  const doc = parseDocument(text);
  if (doc.errors.length) throw new ConfigError(`${file} is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  if (doc.contents === null) doc.contents = new YAMLMap() as never;
  if (!isMap(doc.contents)) throw new ConfigError(`${file} must hold a mapping`);
  return { doc, mode };
}

/** Sets tls (and publicUrl when given) in the document, in place. */
export function applyTlsChoice(doc: Document, choice: TlsChoice, publicUrl?: string): void {
  if (publicUrl) doc.set('publicUrl', publicUrl);
  const current = doc.get('tls', true);
  if (!isMap(current)) {
    doc.set('tls', doc.createNode(choice));
    return;
  }
  // A switch removes the keys of the other modes.
  const keep = new Set(TLS_MODE_KEYS[choice.mode]);
  for (const item of [...current.items]) {
    const key = String((item.key as { value?: unknown })?.value ?? item.key);
    if (!keep.has(key)) current.delete(key);
  }
  for (const [key, value] of Object.entries(choice)) {
    current.set(key, Array.isArray(value) ? doc.createNode(value) : value);
  }
}

/**
 * Applies the choice to `file` (created if missing) and writes it back, after checking that the
 * result, laid over the defaults, is a valid configuration. Returns the resulting tls settings.
 */
export async function writeTlsChoice(file: string, choice: TlsChoice, publicUrl?: string): Promise<Config> {
  const { doc, mode } = await readDocument(file);
  applyTlsChoice(doc, choice, publicUrl);
  let result: Config;
  try {
    // The file as the server will read it: over the defaults (the environment aside).
    result = loadConfig({ env: {}, overrides: doc.toJS() as Record<string, unknown> });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (${file} left as it was)`);
  }
  await mkdir(dirname(file), { recursive: true });
  // Replace the file in one step, keeping its permissions (a settings file may hold secrets).
  const tmp = join(dirname(file), `.${process.pid}.tls.tmp`);
  await writeFile(tmp, doc.toString(), { mode: mode ?? 0o600 });
  await rename(tmp, file);
  return result;
}
