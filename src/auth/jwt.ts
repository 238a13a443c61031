// Vault's JWT auth with a token from an identity (a JWT file: Nomad workload identity, a
// Kubernetes service account token; or the token a kubelet hands over).
import { VaultHttpError, VdlError } from '../core/errors.js';
import { decodeClaims } from '../core/hints.js';
import type { IdentityProvider } from '../core/ports.js';
import { type AuthMethod, expiry } from './method.js';

export interface JwtSettings {
  mount: string;
  role: string;
  namespace?: string;
  /** Where the JWT comes from; `describe` names it in messages. */
  identity: IdentityProvider;
  source: string;
}

/** A refusal that says which setting to change; the JWT itself is never shown. */
function explain(err: unknown, s: JwtSettings, jwt: string): unknown {
  if (!(err instanceof VaultHttpError) || err.status >= 500 || err.status === 429) return err;
  const text = err.errors.join('; ');
  const claims = decodeClaims(jwt);
  const shown = ['iss', 'sub', 'aud']
    .filter((k) => claims[k] !== undefined)
    .map((k) => `${k}=${JSON.stringify(claims[k])}`)
    .join(', ');
  const hint = /role .* could not be found/i.test(text)
    ? `Create role "${s.role}" on auth/${s.mount}, or fix auth.role.`
    : /expired/i.test(text)
      ? `The JWT from ${s.source} has expired: whatever writes it must refresh it.`
      : err.status === 404 || /no handler|unsupported path/i.test(text)
        ? `No auth method is mounted at auth/${s.mount}: fix auth.mount (and vault.auth_namespace).`
        : `Compare the token's claims (${shown}) with role "${s.role}" (vault read auth/${s.mount}/role/${s.role}): bound_audiences, bound_subject, bound_claims.`;
  return new VaultHttpError(
    err.status,
    err.path,
    err.errors,
    'vault-login',
    hint,
    `Vault refused the JWT login as role "${s.role}" on auth/${s.mount}: ${text || `HTTP ${err.status}`}`,
  );
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
        throw explain(err, s, jwt);
      }
    },
  };
}
