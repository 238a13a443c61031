// Turns Vault refusals into errors that say what to fix.
import type { Config } from './config.js';
import { VaultHttpError } from './errors.js';
import { decodeClaims, shownClaims } from './jwt-claims.js';
import type { Source } from './registry-entries.js';
import { type Naming, naming } from './setting-names.js';
import { electing } from './vault-retry.js';

/** The plugin answers 500 with go-multierror text: "1 error occurred:\n\t* <reason>\n\n". */
export function unwrapMultierror(text: string): string {
  const items = [...text.matchAll(/^\s*\* (.+)$/gm)].map((m) => m[1]?.trim() ?? '');
  return items.length ? items.join('; ') : text.trim();
}

function where(
  cfg: Pick<Config, 'url' | 'authNamespace' | 'namespace'>,
  ns: string | undefined,
): string {
  return ns ? `${cfg.url} (namespace "${ns}")` : cfg.url;
}

/** Statuses that mean "Vault is unavailable now", never "your request is wrong". */
const UNAVAILABLE = new Set([412, 429, 502, 503, 504]);

/** Whether a status means Vault's state (sealed, rate-limited, a standby behind), not the request. */
export const isUnavailable = (status: number) => UNAVAILABLE.has(status);

/** After retries ran out: say it was Vault's state, and which settings bound the retrying. */
export function unavailable(
  err: VaultHttpError,
  cfg: Pick<Config, 'retries' | 'timeoutMs' | 'names'>,
): VaultHttpError | undefined {
  const name = naming(cfg.names);
  if (electing(err.status, err.errors))
    return new VaultHttpError(
      err.status,
      err.path,
      err.errors,
      'vault',
      `The Vault node at the configured address is a standby that found no active node for the whole ${cfg.timeoutMs / 1000} s of ${name('timeout')} (a leader election that did not end, or a standby cut off from the others). ` +
        `Check the cluster (bao operator raft list-peers; a quorum of nodes must be up), or point ${name('url')} at a load balancer over every node.`,
      `Vault had no active node: ${err.path} kept answering ${err.status}: ${err.errors.join('; ') || '(no details)'}`,
    );
  if (!UNAVAILABLE.has(err.status)) return undefined;
  return new VaultHttpError(
    err.status,
    err.path,
    err.errors,
    'vault',
    `Vault is unavailable (sealed, rate-limited or a standby behind): gave up after at most ${cfg.retries} retries within ${cfg.timeoutMs / 1000} s. ` +
      `Raise ${name('retries')} or ${name('timeout')} if this is passing, or check Vault's health.`,
    `Vault kept answering ${err.status} on ${err.path}: ${err.errors.join('; ') || '(no details)'}`,
  );
}

/** The identity token's expiry, when its `exp` claim lies in the past. */
function expiredAt(jwt: string, now: number): Date | undefined {
  const exp = decodeClaims(jwt).exp;
  return typeof exp === 'number' && exp * 1000 < now ? new Date(exp * 1000) : undefined;
}

/** What explaining a refused JWT login needs; `jwtFrom` names where a host's JWT comes from. */
export type LoginContext = Pick<
  Config,
  'url' | 'authNamespace' | 'authMount' | 'role' | 'names'
> & {
  jwtFrom?: string;
};

/**
 * `audienceHint` says where the identity's audience is set (a job setting, an input); it comes
 * from the identity provider.
 */
export function explainLogin(
  err: unknown,
  cfg: Config,
  jwt: string,
  audienceHint?: (name: Naming) => string,
): unknown {
  if (!(err instanceof VaultHttpError)) return err;
  return unavailable(err, cfg) ?? explainJwtRefusal(err, cfg, jwt, audienceHint);
}

/** A refused JWT login, for every entry point: which setting (or role, or token) to fix. */
export function explainJwtRefusal(
  err: VaultHttpError,
  cfg: LoginContext,
  jwt: string,
  audienceHint?: (name: Naming) => string,
): VaultHttpError {
  const text = err.errors.join('; ');
  const mount = cfg.authMount;
  const at = where(cfg, cfg.authNamespace);
  const name = naming(cfg.names);
  const fail = (message: string, hint: string) =>
    new VaultHttpError(err.status, err.path, err.errors, 'vault-login', hint, message);
  if (/role .* could not be found/i.test(text)) {
    return fail(
      `Vault login failed: role "${cfg.role}" does not exist on auth mount "${mount}" at ${at}.`,
      `Fix ${name('role')}, or create role "${cfg.role}" on auth/${mount}.`,
    );
  }
  if (err.status === 403) return mountRefusal(err, cfg, 'JWT');
  const expired = expiredAt(jwt, Date.now());
  if (expired || /expired/i.test(text)) {
    return fail(
      `Vault login failed: the identity token expired${expired ? ` at ${expired.toISOString()} (${Math.round((Date.now() - expired.getTime()) / 1000)} s ago)` : ''}: ${text}`,
      cfg.jwtFrom
        ? `The JWT from ${cfg.jwtFrom} has expired: whatever writes it must refresh it.`
        : 'Identity tokens are short-lived: obtain a fresh one right before logging in.',
    );
  }
  if (/audience|\baud\b/i.test(text)) {
    const aud = JSON.stringify(decodeClaims(jwt).aud);
    return fail(
      `Vault login failed: the identity token's audience does not match role "${cfg.role}": ${text}`,
      `Token aud: ${aud}. ${audienceHint?.(name) ?? `The audience comes from ${name('audience')}.`}\n` +
        `Make it one of the role's bound_audiences, or add ${aud} to them (vault read auth/${mount}/role/${cfg.role}).`,
    );
  }
  // A signature or issuer the mount does not accept: its trust settings, not the role, are wrong.
  if (/signature|issuer/i.test(text)) {
    return fail(
      `Vault login failed: auth/${mount} does not trust this token: ${text}`,
      `The token's issuer is ${JSON.stringify(decodeClaims(jwt).iss)}. Set the mount's oidc_discovery_url (or jwks_url) and bound_issuer to that issuer (vault read auth/${mount}/config).`,
    );
  }
  if (/bound|claim/i.test(text) || /not valid yet|verif/i.test(text)) {
    return fail(
      `Vault login failed for role "${cfg.role}": ${text}`,
      `The identity token carries these claims (no secrets):\n${shownClaims(jwt)}\n` +
        `Compare them with the role's bound_claims / bound_subject (vault read auth/${mount}/role/${cfg.role}).`,
    );
  }
  if (err.status === 404 || err.status === 405 || /no handler|unsupported path/i.test(text)) {
    return fail(
      `Vault login failed: no JWT auth method at auth/${mount} on ${at}.`,
      `Set ${name('auth-mount')} to the path where the JWT auth method is enabled (and ${name('auth-namespace')} if it lives in another namespace).`,
    );
  }
  return fail(
    `Vault login failed (HTTP ${err.status}) at auth/${mount}: ${text || '(no details)'}`,
    '',
  );
}

const ENGINE_PATH = /^(.+?)\/token\/([^/]+)\/([^/]+)$/;

/**
 * Vault answers a login at a path where no auth method is enabled with a bare 403, so a 403 at
 * auth/<mount>/login names the mount (or a /v1 in the address) as the likely cause.
 */
export function mountRefusal(
  err: VaultHttpError,
  cfg: Pick<Config, 'url' | 'authNamespace' | 'authMount' | 'names'>,
  method: 'JWT' | 'AppRole',
): VaultHttpError {
  const name = naming(cfg.names);
  const mount = cfg.authMount;
  const path = new URL(cfg.url).pathname.replace(/\/+$/, '');
  const byDefault = method === 'JWT' ? 'jwt' : 'approle';
  return new VaultHttpError(
    err.status,
    err.path,
    err.errors,
    'vault-login',
    path.endsWith('/v1')
      ? `The Vault address ends in /v1, so the login went to ${path}/v1/auth/${mount}/login: set ${name('url')} to the address without /v1.`
      : `No ${method} auth method answers at auth/${mount}: set ${name('auth-mount')} to the path where it is enabled (the default is ${byDefault}; "vault auth list" shows the paths)${cfg.authNamespace ? ` and ${name('auth-namespace')} to its namespace` : ''}. ` +
          `An address ending in /v1 gives the same 403: ${name('url')} must not include /v1.`,
    `Vault login failed: ${where(cfg, cfg.authNamespace)} refused auth/${mount}/login (403 permission denied).`,
  );
}

/** For a denied engine path: which part differs from what the policies grant. */
function engineDenial(path: string, grants: string[], name: Naming): string | undefined {
  const m = ENGINE_PATH.exec(path);
  if (!m) return undefined;
  const [, mount, account] = m;
  const granted = grants
    .map((g) => /^(.+?)\/token\/([^/]+)/.exec(g))
    .filter((g): g is RegExpExecArray => g !== null)
    .map(([, gm = '', ga = '']) => ({ mount: gm, account: ga }));
  if (granted.length === 0) return undefined;
  const mine = granted.filter((g) => g.mount === mount);
  if (mine.length === 0) {
    const mounts = [...new Set(granted.map((g) => `${g.mount}/`))].join(', ');
    return `They grant nothing under ${mount}/ but do under ${mounts}: if the Docker Hub engine is mounted there, set ${name('engine-mount')} to it.`;
  }
  if (!mine.some((g) => g.account === account || g.account === '*')) {
    const accounts = [...new Set(mine.map((g) => `"${g.account}"`))].join(', ');
    return `They grant account(s) ${accounts} on ${mount}/, not "${account}": check ${name('account')}.`;
  }
  return `They grant account "${account}" only for other scopes: use one of those (${name('scope')}), or extend the policy.`;
}

/** For a denied KV v2 style read: the /data/ segment policies and paths need. */
function kvDenial(path: string, grants: string[] | undefined): string | undefined {
  if (ENGINE_PATH.test(path)) return undefined;
  const data = /^(.+?)\/data\/(.+)$/.exec(path);
  if (!data) {
    const [mount, ...rest] = path.split('/');
    return `If ${mount}/ is a KV v2 mount, the path needs /data/ after the mount: ${mount}/data/${rest.join('/')} (in the secret path and in the policy).`;
  }
  const cliPath = `${data[1]}/${data[2]}`;
  return grants?.includes(cliPath)
    ? `The policy names ${cliPath}, the path "vault kv get" shows, but a KV v2 read needs the API path with /data/.`
    : 'A KV v2 policy names the API path, with /data/ after the mount (not the path "vault kv get" shows).';
}

/**
 * Paths the token's policies grant `need` on, from sys/internal/ui/resultant-acl (the default
 * policy allows reading it); globs end in "*". Undefined when the answer is not readable.
 */
export function grantedPaths(acl: unknown, need: string): string[] | undefined {
  const data = (acl as { data?: Record<string, unknown> } | undefined)?.data;
  if (!data || typeof data !== 'object') return undefined;
  const pick = (paths: unknown, glob: boolean) =>
    Object.entries((paths ?? {}) as Record<string, { capabilities?: string[] }>)
      .filter(
        ([p, v]) => v?.capabilities?.includes(need) && !/^(sys|auth|cubbyhole|identity)\//.test(p),
      )
      .map(([p]) => (glob ? `${p}*` : p));
  return [...pick(data.exact_paths, false), ...pick(data.glob_paths, true)];
}

export function explainIssue(
  err: unknown,
  cfg: Pick<Config, 'namespace' | 'retries' | 'timeoutMs' | 'names'> & {
    source: Source;
    /** The entry's place in a `registries` list, whose keys messages then name. */
    at?: string;
  },
  grants?: string[],
): unknown {
  if (!(err instanceof VaultHttpError)) return err;
  const down = unavailable(err, cfg);
  if (down) return down;
  const path = cfg.source.path;
  const name = naming(cfg.names, cfg.at);
  const read = cfg.source.method === 'read';
  const text = err.errors.join('; ');
  const engineError = (message: string, hint?: string) =>
    new VaultHttpError(err.status, err.path, err.errors, 'engine', hint, message);
  if (err.status === 403) {
    const need = read ? 'read' : 'create';
    const stanza = `  path "${path}" {\n    capabilities = ${read ? '["read"]' : '["create", "update"]'}\n  }`;
    const why = [
      grants?.length ? `The token's policies allow ${need} on: ${grants.join(', ')}.` : '',
      (grants && engineDenial(path, grants, name)) ?? '',
      read ? (kvDenial(path, grants) ?? '') : '',
      `The role's policy must allow ${read ? 'reading it' : 'creating tokens there'}:\n${stanza}`,
    ];
    return new VaultHttpError(
      err.status,
      err.path,
      err.errors,
      'vault-permission',
      why.filter(Boolean).join('\n'),
      `Vault denied ${read ? 'reading' : 'writing'} ${path}${cfg.namespace ? ` in namespace "${cfg.namespace}"` : ''} (403 permission denied).`,
    );
  }
  if (err.status === 404 || err.status === 405 || /no handler|unsupported/i.test(text)) {
    if (read)
      return engineError(
        `Nothing to read at ${path} (HTTP ${err.status})${text ? `: ${text}` : ''}.`,
        kvDenial(path, undefined) ?? `Check ${name('secret-path')} and ${name('namespace')}.`,
      );
    return engineError(
      `Nothing at ${path} accepts a write (HTTP ${err.status}): ${text || '(no details)'}`,
      `No secrets engine serves this path: check ${name('engine-mount')} (where the Docker Hub engine is mounted) and ${name('account')}. Older engine releases use token/<user>/<namespace>: set ${name('secret-path')} for them.`,
    );
  }
  const reason = unwrapMultierror(text);
  const mount = path.split('/token/')[0];
  const account = /unable to finde? configuration for "([^"]*)"/.exec(reason)?.[1];
  if (account !== undefined)
    return engineError(
      `The Docker Hub engine at ${mount}/ has no account "${account}" (nothing at ${mount}/config/${account}).`,
      `Check ${name('account')}, or configure the account on the engine:\n  printf '%s' "$DOCKERHUB_PASSWORD" | vault write ${mount}/config/${account} password=- Scope=read`,
    );
  const scope = /requested scope "([^"]*)" is not permitted for user "([^"]*)"/.exec(reason);
  if (scope)
    return engineError(
      `The Docker Hub engine at ${mount}/ does not allow scope "${scope[1]}" for account "${scope[2]}".`,
      `Use a scope the account's config allows (${name('scope')}; "vault read ${mount}/config/${scope[2]}" lists them), or write its config again with the scope added (Scope=read,write,...; the password is needed again).`,
    );
  return engineError(`The secrets engine refused ${path}: ${reason}`);
}
