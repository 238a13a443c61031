// One table of inputs for every entry point that validates them: the TypeScript core (the Action,
// the CLI and the host entry points) and the orb's bash (validate.sh, entries.sh). Each case is
// valid, or refused naming one setting for one reason. test/unit/orb-core-inputs.test.ts runs the
// table against both; each reason is spelled once per side, so both refuse for the same reason.
//
// Settings are named as the core names them (the Action's inputs); the orb's parameter is the same
// name with "_" for "-". A case sets inputs on top of BASE; "" leaves an input unset.

export const BASE: Readonly<Record<string, string>> = {
  url: 'http://127.0.0.1:9',
  role: 'build',
  account: 'acmebot',
  registry: '127.0.0.1:5000',
  timeout: '5',
  retries: '0',
};

/** Why an input is refused: the words each side's message holds. */
export const REASONS = {
  leadingSlash: { core: 'must not start with "/"', orb: "it starts with '/'" },
  queryOrFragment: { core: 'must not contain "?" or "#"', orb: "it contains '?' or '#'" },
  whitespace: {
    core: 'must not contain whitespace or control characters',
    orb: 'it contains whitespace or a control character',
  },
  dotDotSegment: { core: 'must not contain "." or ".." segments', orb: "it has a '..' segment" },
  dotSegment: {
    core: 'must not contain "." or ".." segments',
    orb: "it has an empty or '.' segment",
  },
  emptySegment: { core: 'must not have empty segments', orb: "it has an empty or '.' segment" },
  notSingleName: { core: 'must be a single name without "/"', orb: "it contains '/'" },
  notHttpUrl: { core: 'must be an http(s) URL', orb: 'is not an http(s) URL' },
  urlExtras: {
    core: 'must not carry a query, fragment or credentials',
    orb: 'without credentials, query or fragment',
  },
  scope: {
    core: 'must be one of read, write, admin, public_read',
    orb: 'must be one of read,write,admin,public_read',
  },
  labelLength: { core: 'must be at most 100 characters', orb: 'Accepted: at most 100 characters' },
  labelControl: {
    core: 'must not contain control characters',
    orb: 'it contains a control character',
  },
  registryHost: { core: 'must be a registry host', orb: 'Accepted: a registry host' },
  wholeNumber: { core: 'must be a whole number from', orb: 'Accepted: a whole number from' },
  method: { core: 'must be read or write', orb: 'Accepted: read, write, or empty' },
  fieldName: {
    core: 'must be a field name of the secret',
    orb: 'Accepted: a field name of the secret',
  },
  notJsonObject: { core: 'must be a JSON object', orb: 'it is not a JSON object' },
  bodyWithRead: { core: 'is only sent with a write', orb: 'a body is only sent with method write' },
  accountAndPath: { core: 'replaces the account input', orb: "it replaces 'account'" },
  registriesAndSingle: {
    core: 'replaces registry, account',
    orb: "it replaces 'registry' 'account'",
  },
  registriesShape: { core: 'must be a list of', orb: 'Accepted: a JSON array of' },
  entryNotMapping: { core: 'must be a mapping', orb: 'it is not an object' },
  entryUnknownKey: { core: 'is not a known key', orb: 'it is not a known key' },
  entryNotString: { core: 'must be a string', orb: 'it is not a string' },
  entryBodyNotObject: { core: 'must be a mapping (a JSON object)', orb: 'it is not a JSON object' },
  entryPathMissing: { core: 'is required: the Vault path', orb: 'it is missing' },
  registryTwice: { core: 'appears twice', orb: 'appears twice' },
  notPem: {
    core: 'must be a PEM block (-----BEGIN ...) or its base64 encoding',
    orb: 'it is neither PEM nor base64 of PEM',
  },
  required: { core: 'is required', orb: 'is empty' },
  /** The orb's role has no default: CircleCI refuses the config. */
  requiredParameter: { core: 'is required', orb: 'required parameter role is missing' },
} as const satisfies Record<string, { core: string; orb: string }>;

export type Reason = keyof typeof REASONS;

export interface InputCase {
  inputs: Record<string, string>;
  /** Absent: valid. Else the setting named and why. */
  refused?: { setting: string; why: Reason };
}

const ok = (inputs: Record<string, string>): InputCase => ({ inputs });
const no = (inputs: Record<string, string>, setting: string, why: Reason): InputCase => ({
  inputs,
  refused: { setting, why },
});
/** One input's value refused for `why`, naming that input. */
const bad = (setting: string, value: string, why: Reason): InputCase =>
  no({ [setting]: value }, setting, why);
/** A secret path instead of the Docker Hub account. */
const path = (secretPath: string, more: Record<string, string> = {}) => ({
  account: '',
  'secret-path': secretPath,
  ...more,
});
/** The registries document instead of the single-registry inputs. */
const regs = (entries: unknown, more: Record<string, string> = {}) => ({
  account: '',
  registry: '',
  registries: typeof entries === 'string' ? entries : JSON.stringify(entries),
  ...more,
});

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

export const INPUT_CASES: InputCase[] = [
  // The Vault address.
  ok({ url: 'https://127.0.0.1:8200' }),
  ok({ url: 'http://127.0.0.1:9/' }),
  ok({ url: 'http://127.0.0.1:9/vault' }),
  bad('url', 'ftp://127.0.0.1:8200', 'notHttpUrl'),
  bad('url', '127.0.0.1:8200', 'notHttpUrl'),
  bad('url', 'http://127.0.0.1 :8200', 'notHttpUrl'),
  bad('url', 'https://user:pass@127.0.0.1:8200', 'urlExtras'),
  bad('url', 'https://127.0.0.1:8200/?x=1', 'urlExtras'),
  bad('url', 'https://127.0.0.1:8200/#top', 'urlExtras'),
  no({ url: '' }, 'url', 'required'),

  // Vault paths: namespaces, mounts, secret paths. A ".." inside a name is a name (OpenBao mounts
  // `j..wt/` and stores `secret/data/my..name`); only a ".." segment is traversal.
  ok({ namespace: 'team/my..name' }),
  ok({ namespace: 'team/secrets', 'auth-namespace': 'team' }),
  ok({ 'auth-mount': 'jwt/circleci' }),
  ok({ 'auth-mount': 'j..wt' }),
  ok({ 'engine-mount': 'hub.v2' }),
  ok(path('secret/data/ci/my..name')),
  ok(path('kv/data/a@b:c')),
  bad('namespace', 'team a', 'whitespace'),
  bad('namespace', 'ns?x', 'queryOrFragment'),
  bad('auth-namespace', '../admin', 'dotDotSegment'),
  bad('auth-mount', 'jwt/../token', 'dotDotSegment'),
  bad('auth-mount', '/circleci', 'leadingSlash'),
  bad('auth-mount', 'circleci/', 'emptySegment'),
  bad('auth-mount', 'a/./b', 'dotSegment'),
  bad('engine-mount', 'a//b', 'emptySegment'),
  bad('engine-mount', 'docker hub', 'whitespace'),
  bad('engine-mount', 'a#b', 'queryOrFragment'),
  no(path('/secret/data/x'), 'secret-path', 'leadingSlash'),
  no(path('secret/data/x?version=1'), 'secret-path', 'queryOrFragment'),
  no(path('kv//x'), 'secret-path', 'emptySegment'),
  no(path('secret/data/..'), 'secret-path', 'dotDotSegment'),

  // Names: one path segment.
  ok({ role: 'my..role' }),
  ok({ role: 'ci-build_1.x' }),
  ok({ account: 'acme.bot' }),
  bad('role', '../root', 'dotDotSegment'),
  bad('role', 'team/role', 'notSingleName'),
  bad('role', 'my role', 'whitespace'),
  bad('role', 'ro\tle', 'whitespace'),
  bad('role', 'role?x=1', 'queryOrFragment'),
  bad('role', 'role#frag', 'queryOrFragment'),
  bad('role', '/role', 'leadingSlash'),
  bad('account', 'acme\u0007bot', 'whitespace'),
  bad('account', 'a/../b', 'dotDotSegment'),
  bad('account', 'a/b', 'notSingleName'),
  no({ role: '' }, 'role', 'requiredParameter'),
  no({ account: '' }, 'account', 'required'),
  no(path('secret/data/x', { account: 'acmebot' }), 'secret-path', 'accountAndPath'),

  // Scope and label.
  ok({ scope: 'public_read' }),
  bad('scope', 'owner', 'scope'),
  ok({ label: 'x'.repeat(100) }),
  ok({ label: 'acme/widgets run 7 attempt 1' }),
  bad('label', 'x'.repeat(101), 'labelLength'),
  bad('label', 'run\u00071', 'labelControl'),

  // The registry.
  ok({ registry: 'ghcr.io' }),
  ok({ registry: 'https://ghcr.io/' }),
  ok({ registry: 'ghcr.io/owner/repo' }),
  ok({ registry: '127.0.0.1:5000' }),
  ok({ registry: 'Registry-1.example.test:443/a_b/c.d' }),
  ok({ registry: '' }),
  bad('registry', 'registry example.test', 'registryHost'),
  bad('registry', 'my_reg.local:5000', 'registryHost'),
  bad('registry', 'ghcr.io//x/', 'registryHost'),
  bad('registry', 'ghcr.io:port', 'registryHost'),
  bad('registry', 'https://user:pw@ghcr.io', 'registryHost'),
  bad('registry', 'ftp://ghcr.io', 'registryHost'),

  // TLS material.
  ok({ 'ca-certificate': Buffer.from(PEM).toString('base64') }),
  ok({ 'ca-certificate': PEM }),
  bad('ca-certificate', 'bm90IGEgcGVt', 'notPem'),
  bad('ca-certificate', 'not a certificate', 'notPem'),

  // Numbers.
  ok({ timeout: '1' }),
  ok({ timeout: '3600' }),
  ok({ retries: '10' }),
  bad('timeout', '0', 'wholeNumber'),
  bad('timeout', '3601', 'wholeNumber'),
  bad('retries', '11', 'wholeNumber'),

  // How the secret is read.
  ok(path('secret/data/x', { 'secret-method': 'read' })),
  ok(path('quay/robot', { 'secret-method': 'write', 'secret-body': '{"ttl": "1h"}' })),
  ok({ 'username-field': 'user_name', 'password-field': 'access-token' }),
  bad('secret-method', 'delete', 'method'),
  bad('secret-method', 'GET', 'method'),
  bad('username-field', 'data.username', 'fieldName'),
  bad('password-field', 'pass word', 'fieldName'),
  no(path('secret/data/x', { 'secret-body': '{}' }), 'secret-body', 'bodyWithRead'),
  no({ 'secret-method': 'write', 'secret-body': '{"label": ' }, 'secret-body', 'notJsonObject'),
  no({ 'secret-body': '["not", "an", "object"]' }, 'secret-body', 'notJsonObject'),

  // Many registries.
  ok(regs([{ registry: '127.0.0.1:5000', secret_path: 'secret/data/ci' }])),
  // The Action's spelling of the keys.
  ok(regs([{ 'secret-path': 'secret/data/ci', 'username-field': 'user' }])),
  ok(
    regs([
      { secret_path: 'dockerhub/token/acmebot/read' },
      { registry: 'ghcr.io', secret_path: 'secret/data/ghcr', username_field: 'user' },
      { registry: 'quay.io', secret_path: 'quay/creds/ci', method: 'write', body: { ttl: '1h' } },
    ]),
  ),
  no(
    regs([{ secret_path: 'a/b' }], { registry: '127.0.0.1:5000', account: 'acmebot' }),
    'registries',
    'registriesAndSingle',
  ),
  no(regs('[]'), 'registries', 'registriesShape'),
  no(regs('{"registry": "a", "secret_path": "b"}'), 'registries', 'registriesShape'),
  no(regs(['127.0.0.1:5000']), 'registries[0]', 'entryNotMapping'),
  no(regs([{ registry: '127.0.0.1:5000' }]), 'registries[0].secret_path', 'entryPathMissing'),
  no(
    regs([{ registry: 'r', secret_path: 'secret/data/x', password: 'p' }]),
    'registries[0].password',
    'entryUnknownKey',
  ),
  no(
    regs([{ registry: 5000, secret_path: 'secret/data/x' }]),
    'registries[0].registry',
    'entryNotString',
  ),
  no(
    regs([{ registry: 'r', secret_path: 'secret/data/x', body: '{}' }]),
    'registries[0].body',
    'entryBodyNotObject',
  ),
  no(
    regs([{ registry: 'r', secret_path: '/secret/data/x' }]),
    'registries[0].secret_path',
    'leadingSlash',
  ),
  no(
    regs([{ secret_path: 'a/b' }, { registry: 'r', secret_path: 'a/../b' }]),
    'registries[1].secret_path',
    'dotDotSegment',
  ),
  no(
    regs([{ registry: 'bad host', secret_path: 'a/b' }]),
    'registries[0].registry',
    'registryHost',
  ),
  no(
    regs([{ registry: 'my_reg.local', secret_path: 'a/b' }]),
    'registries[0].registry',
    'registryHost',
  ),
  no(
    regs([{ registry: 'r', secret_path: 'a/b', method: 'list' }]),
    'registries[0].method',
    'method',
  ),
  no(
    regs([{ secret_path: 'a/b', username_field: 'a.b' }]),
    'registries[0].username_field',
    'fieldName',
  ),
  no(
    regs([{ secret_path: 'a/b', method: 'read', body: { x: 1 } }]),
    'registries[0].body',
    'bodyWithRead',
  ),
  no(
    regs([
      { registry: 'r', secret_path: 'a/b' },
      { registry: 'r', secret_path: 'c/d' },
    ]),
    'registries[1].registry',
    'registryTwice',
  ),
  no(
    regs([
      { registry: 'ghcr.io', secret_path: 'a/b' },
      { registry: 'https://ghcr.io/', secret_path: 'c/d' },
    ]),
    'registries[1].registry',
    'registryTwice',
  ),
  no(
    regs([{ secret_path: 'a/b' }, { registry: 'index.docker.io', secret_path: 'c/d' }]),
    'registries[1].registry',
    'registryTwice',
  ),
];
