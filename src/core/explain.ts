// Turns Vault refusals into errors that say what to fix.
import type { Config } from './config.js';
import { VaultHttpError } from './errors.js';
import { decodeClaims, shownClaims } from './hints.js';

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

/** After retries ran out: say it was Vault's state, and which inputs bound the retrying. */
function unavailable(
  err: VaultHttpError,
  cfg: Pick<Config, 'retries' | 'timeoutMs'>,
): VaultHttpError | undefined {
  if (!UNAVAILABLE.has(err.status)) return undefined;
  return new VaultHttpError(
    err.status,
    err.path,
    err.errors,
    'vault',
    `Vault is unavailable (sealed, rate-limited or a standby behind): the step gave up after at most ${cfg.retries} retries within ${cfg.timeoutMs / 1000} s. ` +
      "Raise the retries or timeout input if this is passing, or check Vault's health.",
    `Vault kept answering ${err.status} on ${err.path}: ${err.errors.join('; ') || '(no details)'}`,
  );
}

export function explainLogin(err: unknown, cfg: Config, jwt: string): unknown {
  if (!(err instanceof VaultHttpError)) return err;
  const down = unavailable(err, cfg);
  if (down) return down;
  const text = err.errors.join('; ');
  const mount = cfg.authMount;
  const at = where(cfg, cfg.authNamespace);
  const claims = shownClaims(jwt);
  const fail = (message: string, hint: string) =>
    new VaultHttpError(err.status, err.path, err.errors, 'vault-login', hint, message);
  if (/role .* could not be found/i.test(text)) {
    return fail(
      `Vault login failed: role "${cfg.role}" does not exist on auth mount "${mount}" at ${at}.`,
      `Fix the role input, or create the role: vault write auth/${mount}/role/${cfg.role} role_type=jwt ...`,
    );
  }
  if (/audience|\baud\b/i.test(text)) {
    const aud = JSON.stringify(decodeClaims(jwt).aud);
    return fail(
      `Vault login failed: the identity token's audience does not match role "${cfg.role}": ${text}`,
      `Token aud: ${aud}; audience input: ${cfg.audience ? `"${cfg.audience}"` : '(not set: the CI default)'}.\n` +
        `Set the audience input to one of the role's bound_audiences, or add ${aud} to them.`,
    );
  }
  if (/bound|claim/i.test(text) || /expired|not valid yet|signature|verif/i.test(text)) {
    return fail(
      `Vault login failed for role "${cfg.role}": ${text}`,
      `The identity token carries these claims (no secrets):\n${claims}\n` +
        `Compare them with the role's bound_claims / bound_subject (vault read auth/${mount}/role/${cfg.role}).`,
    );
  }
  if (err.status === 404 || /no handler|unsupported path/i.test(text)) {
    return fail(
      `Vault login failed: no JWT auth method at auth/${mount} on ${at}.`,
      'Set auth-mount to the path where the JWT auth method is enabled (and auth-namespace if it lives in another namespace).',
    );
  }
  return fail(
    `Vault login failed (HTTP ${err.status}) at auth/${mount}: ${text || '(no details)'}`,
    '',
  );
}

export function explainIssue(
  err: unknown,
  cfg: Pick<Config, 'namespace' | 'retries' | 'timeoutMs' | 'source'>,
): unknown {
  if (!(err instanceof VaultHttpError)) return err;
  const down = unavailable(err, cfg);
  if (down) return down;
  const path = cfg.source.path;
  const text = err.errors.join('; ');
  if (err.status === 403) {
    const read = cfg.source.method === 'read';
    return new VaultHttpError(
      err.status,
      err.path,
      err.errors,
      'vault-permission',
      read
        ? `The role's policy must allow reading it:\n  path "${path}" {\n    capabilities = ["read"]\n  }`
        : `The role's policy must allow creating tokens there:\n  path "${path}" {\n    capabilities = ["create", "update"]\n  }`,
      `Vault denied ${read ? 'reading' : 'writing'} ${path}${cfg.namespace ? ` in namespace "${cfg.namespace}"` : ''} (403 permission denied).`,
    );
  }
  if (err.status === 404 || err.status === 405 || /no handler|unsupported/i.test(text)) {
    return new VaultHttpError(
      err.status,
      err.path,
      err.errors,
      'engine',
      'Check engine-mount and account; older engine releases use token/<user>/<namespace>: set secret-path for them.',
      `Nothing at ${path} accepts a write (HTTP ${err.status}): ${text || '(no details)'}`,
    );
  }
  const reason = unwrapMultierror(text);
  return new VaultHttpError(
    err.status,
    err.path,
    err.errors,
    'engine',
    /scope/i.test(reason)
      ? `Use a scope the engine allows for this account, or widen the account's allowed scopes on the engine.`
      : /not (found|configured)|unknown|no config|find(e)? configuration/i.test(reason)
        ? `Check the account input: it must name a config at ${path.split('/token/')[0]}/config/<account>.`
        : undefined,
    `The secrets engine refused ${path}: ${reason}`,
  );
}
