import type { ClientView } from '../clients/clients.schemas.ts';
import { ValidationError } from '../errors/app-error.ts';
import { CliError } from './shared.ts';

/** A client as the commands print it: one line of kind, then its settings. */
export function describeClient(c: ClientView): string {
  const kinds = [c.type, c.firstParty ? 'first-party' : 'consent screen', ...(c.introspect ? ['introspect'] : [])];
  const rows: Array<[string, string]> = [
    ['name', c.name],
    ['source', c.source],
    ['grants', c.grants.join(', ') || '(none)'],
    ['redirect URIs', c.redirectUris.join(' ') || '(none)'],
    ...(c.postLogoutRedirectUris.length ? [['post-logout URIs', c.postLogoutRedirectUris.join(' ')] as [string, string]] : []),
    ['scope', c.scope],
    ['PKCE', c.pkceRequired ? 'required' : 'optional'],
  ];
  return `client ${c.clientId} (${kinds.join(', ')})\n${rows.map(([k, v]) => `  ${`${k}:`.padEnd(18)}${v}`).join('\n')}\n`;
}

// The service names fields as the API does; a person at the terminal typed flags.
const FLAGS: Record<string, string> = {
  clientId: 'ID',
  name: '--name',
  redirectUris: '--redirect-uri',
  grants: '--grant',
  secret: 'the secret',
  introspect: '--introspect',
  scope: 'scope',
};

/** A ValidationError from the service, reworded with the flag the user typed. */
export function asCliError(err: unknown): unknown {
  if (!(err instanceof ValidationError)) return err;
  const [root = '', index] = err.field.split('.');
  const flag = FLAGS[root] ?? err.field;
  return new CliError(`${flag}${index === undefined ? '' : ` #${Number(index) + 1}`}: ${err.reason}`);
}
