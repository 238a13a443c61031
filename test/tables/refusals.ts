// One table of Vault refusals for every entry point that explains them: the TypeScript core
// (explain.ts behind the Vault client) and the orb's bash (http.sh retries, hints.sh explains).
// Each refusal says whether it is retried and what it means; test/unit/orb-core-refusals.test.ts
// serves each to both over HTTP. The texts are Vault's, OpenBao's and the Docker Hub engine's own.

/**
 * What a refusal means to the user; each side's explanation holds its own words for it. `host`
 * is what the host entry points' JWT login says where it differs from the CI entry points'.
 */
export const MEANINGS = {
  /** Sealed, rate-limited, a standby behind: Vault's state, not the request. */
  unavailable: { core: 'Vault is unavailable', orb: 'Vault is unavailable' },
  role: { core: 'create role "build" on auth/', orb: "create role 'build' on auth/" },
  audience: { core: 'bound_audiences', orb: 'bound_audiences' },
  expired: {
    core: 'short-lived',
    orb: 'the OIDC token expired',
    host: 'whatever writes it must refresh it',
  },
  /** The token is well formed but its signer or issuer is not the one the mount trusts. */
  untrusted: { core: 'does not trust this token', orb: 'does not trust this token' },
  claims: { core: 'bound_claims', orb: 'bound_claims' },
  noAuthMethod: { core: 'JWT auth method', orb: 'JWT auth method' },
  denied: { core: 'capabilities = ["create", "update"]', orb: 'capabilities ["create", "update"]' },
  nothingThere: { core: 'engine-mount', orb: 'engine_mount' },
  notAWritePath: { core: 'engine-mount', orb: 'Docker Hub engine paths are written' },
  engineAccount: { core: 'no account "u"', orb: "account 'u' is not configured" },
  engineScope: { core: 'does not allow scope "admin"', orb: 'does not allow scope' },
  /** Nothing more specific to say: each side names what it can. */
  loginOther: { core: 'Vault login failed (HTTP', orb: 'check the Vault server' },
  engineOther: { core: 'The secrets engine refused', orb: 'check the secrets engine at' },
} as const satisfies Record<string, { core: string; orb: string; host?: string }>;

export type Meaning = keyof typeof MEANINGS;

export interface Refusal {
  /** The JWT login, or the write of a Docker Hub engine token. */
  phase: 'login' | 'issue';
  status: number;
  errors: string[];
  /** Whether another attempt is made (the table's cases allow one retry). */
  retried: boolean;
  means: Meaning;
}

const multierror = (reason: string) => `1 error occurred:\n\t* ${reason}\n\n`;
const login = (status: number, errors: string[], retried: boolean, means: Meaning): Refusal => ({
  phase: 'login',
  status,
  errors,
  retried,
  means,
});
const issue = (status: number, errors: string[], retried: boolean, means: Meaning): Refusal => ({
  phase: 'issue',
  status,
  errors,
  retried,
  means,
});

export const REFUSALS: Refusal[] = [
  login(400, ['role "build" could not be found'], false, 'role'),
  login(
    400,
    [
      'error validating token: invalid audience (aud) claim: audience claim does not match any expected audience',
    ],
    false,
    'audience',
  ),
  login(400, ['audience claim found in JWT but no audiences bound to the role'], false, 'audience'),
  login(
    400,
    ['error validating token: invalid expiration time (exp) claim: token is expired'],
    false,
    'expired',
  ),
  login(400, ['error validating claims: token is expired'], false, 'expired'),
  login(
    400,
    [
      'error validating token: error verifying token signature: failed to verify id token signature',
    ],
    false,
    'untrusted',
  ),
  login(400, ['error validating token: invalid issuer (iss) claim'], false, 'untrusted'),
  login(
    400,
    ['error validating claims: claim "ref" does not match any associated bound claim values'],
    false,
    'claims',
  ),
  // "missing" holds "iss": not an issuer problem.
  login(400, ['error validating claims: claim "project_id" is missing'], false, 'claims'),
  login(403, ['permission denied'], false, 'noAuthMethod'),
  login(
    404,
    ['no handler for route "auth/jwt/login". route entry not found.'],
    false,
    'noAuthMethod',
  ),
  login(405, ['unsupported operation'], false, 'noAuthMethod'),
  login(400, ['missing role'], false, 'loginOther'),
  login(412, [], true, 'unavailable'),
  login(429, ['request path "auth/jwt/login": rate limit quota exceeded'], true, 'unavailable'),
  login(502, [], true, 'unavailable'),
  login(503, ['Vault is sealed'], true, 'unavailable'),
  login(504, [], true, 'unavailable'),
  login(500, ['internal error'], true, 'loginOther'),
  login(501, ['not implemented'], false, 'loginOther'),

  issue(403, ['permission denied'], false, 'denied'),
  issue(
    404,
    ['no handler for route "hub/token/u/admin". route entry not found.'],
    false,
    'nothingThere',
  ),
  issue(405, ['unsupported operation'], false, 'notAWritePath'),
  issue(500, [multierror('unable to finde configuration for "u"')], false, 'engineAccount'),
  issue(500, [multierror('unable to find configuration for "u"')], false, 'engineAccount'),
  issue(
    500,
    [multierror('requested scope "admin" is not permitted for user "u"')],
    false,
    'engineScope',
  ),
  issue(500, [multierror('invalid slice provided')], false, 'engineOther'),
  issue(500, [multierror('failed to create token: 502 Bad Gateway')], true, 'engineOther'),
  issue(412, [], true, 'unavailable'),
  issue(429, ['rate limit quota exceeded'], true, 'unavailable'),
  issue(503, ['Vault is sealed'], true, 'unavailable'),
];
