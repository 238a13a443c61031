// Vault's JWT auth with a token from an identity (a JWT file: Nomad workload identity, a
// Kubernetes service account token; or the token a kubelet hands over).
import { VaultHttpError, VdlError } from '../core/errors.js';
import { explainJwtRefusal, isUnavailable } from '../core/explain.js';
import type { IdentityProvider } from '../core/ports.js';
import type { SettingNames } from '../core/setting-names.js';
import { type AuthMethod, expiry } from './method.js';

export interface JwtSettings {
  mount: string;
  role: string;
  namespace?: string;
  /** Where the JWT comes from; `describe` names it in messages. */
  identity: IdentityProvider;
  source: string;
  /** How the entry point names its settings in messages. */
  names?: SettingNames;
}

export function jwtAuth(s: JwtSettings): AuthMethod {
  return {
    describe: `JWT role ${s.role} on auth/${s.mount} (token from ${s.source})`,
    async login(vault, now) {
      const jwt = await s.identity.getToken(undefined, now + 60_000);
      if (!jwt) throw new VdlError('identity', `No JWT from ${s.source}.`);
      try {
        const auth = await vault.jwtLogin(s.mount, s.role, jwt, s.namespace);
        return { token: auth.token, revocable: true, expiresAt: expiry(now, auth.leaseDuration) };
      } catch (err) {
        // Vault's state (503, 429, 412...) is explained where the retries are known.
        if (!(err instanceof VaultHttpError) || isUnavailable(err.status)) throw err;
        const { mount: authMount, role, namespace: authNamespace, names, source: jwtFrom } = s;
        const ctx = { url: vault.opts.url, authMount, role, authNamespace, names, jwtFrom };
        throw explainJwtRefusal(err, ctx, jwt, s.identity.audienceHint);
      }
    },
  };
}
