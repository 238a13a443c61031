// `credential_helper.job`: the helper serving one CI job (written by the Action's, the CLI's
// `credential-helper` mode). The token in auth.token_file is then the job's own: the helper renews
// it while the job uses it and, when it could not be renewed, logs in again with the job's identity.
import { ConfigError } from '../core/errors.js';
import { ownSection } from '../core/host-config.js';

export interface Relogin {
  /** Where the fresh identity token comes from. */
  identity:
    | { kind: 'github' }
    | { kind: 'jwt_env'; name: string }
    | { kind: 'jwt_file'; path: string };
  mount: string;
  role: string;
  audience?: string;
}

export interface JobSettings {
  /** Renew the token with auth/token/renew-self (it is this job's, not a Vault Agent's). */
  renew: boolean;
  relogin?: Relogin;
}

const AT = 'credential_helper.job';

function text(raw: Record<string, unknown>, key: string, at: string, label: string) {
  const v = raw[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' && typeof v !== 'number')
    throw new ConfigError(`${at}.${key}`, 'must be a string.', label);
  return String(v);
}

function relogin(section: unknown, file: string, label: string): Relogin | undefined {
  if (section === undefined || section === null) return undefined;
  const at = `${AT}.relogin`;
  const raw = ownSection(
    section,
    at,
    ['identity', 'jwt_env', 'jwt_file', 'mount', 'role', 'audience'],
    file,
  );
  const kind = text(raw, 'identity', at, label) ?? 'github';
  const need = (k: string) => {
    const v = text(raw, k, at, label);
    if (!v) throw new ConfigError(`${at}.${k}`, `is required with ${at}.identity ${kind}.`, label);
    return v;
  };
  const identity: Relogin['identity'] =
    kind === 'github'
      ? { kind }
      : kind === 'jwt_env'
        ? { kind, name: need('jwt_env') }
        : kind === 'jwt_file'
          ? { kind, path: need('jwt_file') }
          : (() => {
              throw new ConfigError(
                `${at}.identity`,
                `must be github, jwt_env or jwt_file; got "${kind}".`,
                label,
              );
            })();
  return {
    identity,
    mount: text(raw, 'mount', at, label) ?? 'jwt',
    role: need('role'),
    audience: text(raw, 'audience', at, label),
  };
}

export function parseJobSettings(section: unknown, file: string): JobSettings | undefined {
  if (section === undefined || section === null) return undefined;
  const label = `Config file ${file}: key`;
  const raw = ownSection(section, AT, ['renew', 'relogin'], file);
  const renew = String(raw.renew ?? 'true');
  if (renew !== 'true' && renew !== 'false')
    throw new ConfigError(`${AT}.renew`, `must be true or false; got "${renew}".`, label);
  return { renew: renew === 'true', relogin: relogin(raw.relogin, file, label) };
}
