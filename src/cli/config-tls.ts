import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { writeTlsChoice, type TlsChoice } from '../config/tls-choice.ts';
import {
  askTlsChoice,
  emailProblem,
  hostProblem,
  httpsUrlProblem,
  keyPairProblem,
  LETSENCRYPT_TERMS,
  type Prompts,
} from './config-tls.choices.ts';
import { collect, CliError, settingsFile } from './shared.ts';

interface TlsFlags {
  mode?: TlsChoice['mode'];
  cert?: string;
  key?: string;
  host?: string[];
  email?: string;
  acceptTos?: boolean;
  staging?: boolean;
  directory?: string;
  publicUrl?: string;
}

// Each flag belongs to one mode; given with another, it is a mistake worth saying.
const FLAG_MODE: Record<string, TlsChoice['mode']> = {
  cert: 'file',
  key: 'file',
  host: 'self',
  email: 'letsencrypt',
  acceptTos: 'letsencrypt',
  staging: 'letsencrypt',
  directory: 'letsencrypt',
};
const FLAG_NAME: Record<string, string> = { acceptTos: '--accept-tos' };

const fail = (problem: string | undefined) => {
  if (problem) throw new CliError(problem);
};

/** The choice the flags describe, checked as the menu would check it. */
export function choiceFromFlags(flags: TlsFlags): TlsChoice {
  const mode = flags.mode!;
  for (const [flag, owner] of Object.entries(FLAG_MODE)) {
    if (flags[flag as keyof TlsFlags] !== undefined && owner !== mode) {
      throw new CliError(`${FLAG_NAME[flag] ?? `--${flag}`} applies to --mode ${owner}, not --mode ${mode}`);
    }
  }
  switch (mode) {
    case 'none':
      return { mode };
    case 'file': {
      if (!flags.cert || !flags.key) throw new CliError('--mode file needs --cert FILE and --key FILE');
      const certFile = resolve(flags.cert);
      const keyFile = resolve(flags.key);
      fail(keyPairProblem(certFile, keyFile));
      return { mode, certFile, keyFile };
    }
    case 'self': {
      const hosts = flags.host ?? [];
      fail(hosts.map(hostProblem).find(Boolean));
      return { mode, hosts };
    }
    case 'letsencrypt': {
      if (!flags.email) throw new CliError('--mode letsencrypt needs --email ADDRESS (for the ACME account)');
      fail(emailProblem(flags.email));
      if (!flags.acceptTos) throw new CliError(`--mode letsencrypt needs --accept-tos: accepting the Let's Encrypt Subscriber Agreement (${LETSENCRYPT_TERMS})`);
      if (flags.staging && flags.directory) throw new CliError('give --staging or --directory URL, not both');
      if (flags.directory) fail(httpsUrlProblem(flags.directory));
      return { mode, email: flags.email, acceptTos: true, directory: flags.staging ? 'staging' : (flags.directory ?? 'production') };
    }
  }
}

/**
 * The settings now in force: the target file (when it exists yet) over the defaults, under the
 * environment. When they do not load, the defaults: this command is one way to fix them.
 */
function currentConfig(file: string): Config {
  try {
    return loadConfig({ env: { ...process.env, CELLS_AUTH_CONFIG: undefined }, file: existsSync(file) ? file : undefined });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`note: the current settings do not load (${err.message}); starting from the defaults\n`);
    return loadConfig({ env: {} });
  }
}

// Every command is registered when the program starts, `start` included: the menu's library and the
// self mode's X.509 one are loaded only when this command asks for them.
const prompts = () => import('@inquirer/prompts');
const realPrompts: Prompts = {
  select: async (o) => (await prompts()).select(o),
  input: async (o) => (await prompts()).input(o),
  confirm: async (o) => (await prompts()).confirm(o),
};

export function registerConfigTls(config: Command): void {
  config
    .command('tls')
    .description('choose how to serve HTTPS: an arrow-key menu, or flags for scripts')
    .addOption(new Option('--mode <mode>', 'TLS mode').choices(['none', 'file', 'self', 'letsencrypt']))
    .option('--cert <file>', 'file: PEM certificate, the leaf then its intermediates')
    .option('--key <file>', 'file: PEM private key')
    .option('--host <name>', 'self: an extra host name or IP address (repeatable)', collect)
    .option('--email <address>', 'letsencrypt: e-mail address of the ACME account')
    .option('--accept-tos', "letsencrypt: accept the Let's Encrypt Subscriber Agreement")
    .option('--staging', "letsencrypt: use Let's Encrypt's staging CA")
    .option('--directory <url>', 'letsencrypt: another ACME directory URL')
    .option('--public-url <url>', 'also set publicUrl (TLS needs https://)')
    .action(async (flags: TlsFlags, cmd: Command) => {
      const { file } = settingsFile(cmd);
      const current = currentConfig(file);
      let choice: TlsChoice;
      let publicUrl = flags.publicUrl;
      if (publicUrl) fail(httpsUrlProblem(publicUrl));
      if (flags.mode) {
        choice = choiceFromFlags(flags);
        if (choice.mode !== 'none' && !(publicUrl ?? current.publicUrl).startsWith('https:')) {
          throw new CliError(`tls.mode ${choice.mode} needs an https:// public URL (it is ${current.publicUrl}): add --public-url https://…`);
        }
      } else {
        if (!process.stdin.isTTY || !process.stdout.isTTY) {
          throw new CliError('no terminal for the menu: pass --mode none|file|self|letsencrypt and its flags (see config tls --help)');
        }
        try {
          ({ choice, publicUrl } = await askTlsChoice(realPrompts, current));
        } catch (err) {
          // Ctrl-C in a prompt: @inquirer/core's ExitPromptError (not exported by @inquirer/prompts).
          if ((err as Error).name === 'ExitPromptError') throw new CliError('cancelled; nothing was written');
          throw err;
        }
      }
      const result = await writeTlsChoice(file, choice, publicUrl);
      process.stdout.write(`wrote tls.mode ${choice.mode}${publicUrl ? ` and publicUrl ${publicUrl}` : ''} to ${file}; restart cells-auth to apply\n`);
      if (choice.mode === 'self') {
        const { certsDir } = await import('../tls/self.ts');
        process.stdout.write(`the root CA is made at the first start; trust it with: CAROOT=${certsDir(result.dataDir)} mkcert -install\n`);
      }
      if (choice.mode === 'letsencrypt' && result.tls.mode === 'letsencrypt') {
        process.stdout.write(`the CA must reach this server on port ${result.tls.httpChallengePort} (HTTP-01) at ${new URL(result.publicUrl).hostname}\n`);
      }
      const overriding = ['CELLS_AUTH_TLS_MODE', 'CELLS_AUTH_TLS_CERT_FILE', 'CELLS_AUTH_TLS_KEY_FILE', 'CELLS_AUTH_ACME_EMAIL', 'CELLS_AUTH_ACME_ACCEPT_TOS', 'CELLS_AUTH_ACME_DIRECTORY', 'CELLS_AUTH_PUBLIC_URL'].filter((v) => process.env[v]);
      if (overriding.length) process.stderr.write(`note: ${overriding.join(', ')} set in the environment override${overriding.length === 1 ? 's' : ''} this file\n`);
    });
}
