import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { KeysService } from './keys.service.ts';
import type { RequestStore } from './request-store.ts';

/**
 * Holds the current provider. oidc-provider reads its keys once, at construction, so when the
 * published key set changes (a rotation on any instance) the provider is built again; requests
 * already running finish on the old one.
 */
export function createOidcRuntime(deps: {
  keys: KeysService;
  build: (keys: Awaited<ReturnType<KeysService['load']>>) => Provider;
  /** What one provider request holds; also for work on its models outside its routes. */
  store: RequestStore;
  log: Logger;
}) {
  let provider: Provider | undefined;
  let keySet: Awaited<ReturnType<KeysService['load']>> | undefined;
  let version = '';
  let timer: NodeJS.Timeout | undefined;

  async function reload(): Promise<boolean> {
    const v = await deps.keys.version();
    if (provider && v === version) return false;
    const loaded = await deps.keys.load();
    provider = deps.build(loaded);
    keySet = loaded;
    version = v;
    return true;
  }

  return {
    store: deps.store,
    provider(): Provider {
      if (!provider) throw new Error('the OIDC provider is not ready');
      return provider;
    },
    /** The cookie key in use; it also keys our CSRF tokens. */
    cookieKey(): string {
      if (!keySet?.cookieKeys[0]) throw new Error('the OIDC provider is not ready');
      return keySet.cookieKeys[0];
    },
    reload,
    /** Polls the key set so a rotation on another instance is picked up within `ms`. */
    watch(ms: number) {
      timer = setInterval(() => {
        reload()
          .then((changed) => changed && deps.log.info('signing keys changed; provider reloaded'))
          .catch((err) => deps.log.warn({ err }, 'could not check the signing keys'));
      }, ms);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}

export type OidcRuntime = ReturnType<typeof createOidcRuntime>;
