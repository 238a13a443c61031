// One schema per section of the host configuration file. Every host entry point (credential
// helper, kubelet provider, Swarm driver) reads the file through all of them, so one shared
// /etc/vault-docker-login/config.yml serves each, and a mistake in any section is found by each.
// Sections give the settings' form; what they mean (defaults, cross-checks) is the entry point's.
import {
  absolutePath,
  checked,
  checkedText,
  duration,
  flag,
  oneOf,
  optional as opt,
  Refusal,
  section,
  text,
  value,
  withDefault,
} from './host-config-fields.js';
import { pathLike, segment } from './validators.js';

const DAY = { seconds: 86_400, as: '24h' };

export const VAULT_SECTION = section({
  url: opt(text()),
  namespace: opt(text()),
  auth_namespace: opt(text()),
  ca_cert: opt(text()),
  client_cert: opt(text()),
  client_key: opt(text()),
  tls_skip_verify: opt(flag()),
  timeout: opt(duration()),
  retries: opt(text()),
});

const mount = (fallback: string) => withDefault(checkedText(pathLike), fallback);
const need = (method: string, why: string) => `is required with auth.method ${method}: ${why}.`;

export const AUTH_METHODS = ['token', 'token_file', 'jwt', 'approle'] as const;

/** The `auth` section takes the keys of its `method`. */
export const AUTH_SECTIONS = {
  token: section({ method: text() }),
  token_file: section({
    method: text(),
    token_file: text(need('token_file', 'the Vault Agent sink file')),
  }),
  jwt: section({
    method: text(),
    mount: mount('jwt'),
    role: checkedText(segment, need('jwt', 'the JWT role to log in with')),
    jwt_file: opt(text()),
  }),
  approle: checked(
    section({
      method: text(),
      mount: mount('approle'),
      role_id: opt(text()),
      role_id_file: opt(text()),
      secret_id_file: text(need('approle', 'the file holding the secret_id or its wrapping token')),
      secret_id_wrapped: withDefault(flag(), false),
      role_name: opt(checkedText(segment)),
      state_dir: opt(absolutePath()),
    }),
    (a, at) => {
      if (!a.role_id === !a.role_id_file)
        throw new Refusal([...at, 'role_id'], 'or auth.role_id_file is required (one of them).');
    },
  ),
};

export const AUTH_METHOD = section({
  method: withDefault(oneOf(AUTH_METHODS), 'token'),
});

const IDENTITIES = ['github', 'jwt_env', 'jwt_file'] as const;
const RELOGIN = checked(
  section({
    identity: withDefault(oneOf(IDENTITIES), 'github'),
    jwt_env: opt(text()),
    jwt_file: opt(text()),
    mount: withDefault(text(), 'jwt'),
    role: text('is required.'),
    audience: opt(text()),
  }),
  (r, at) => {
    const key = r.identity === 'github' ? undefined : r.identity;
    if (key && !r[key])
      throw new Refusal(
        [...at, key],
        `is required with credential_helper.job.relogin.identity ${key}.`,
      );
  },
);

export const CREDENTIAL_HELPER_SECTION = section({
  on_error: opt(
    oneOf(
      ['fail', 'anonymous'],
      'fail (the default: a pull fails with the reason) or anonymous (it goes on without credentials)',
    ),
  ),
  renew_before: opt(duration(DAY)),
  static_ttl: opt(duration(DAY)),
  job: opt(section({ renew: withDefault(flag(), true), relogin: opt(RELOGIN) })),
});

export const CACHE_KEY_TYPES = ['Image', 'Registry', 'Global'] as const;
/** An annotation key as Kubernetes allows it: [prefix/]name, name at most 63 characters. */
const ANNOTATION =
  /^(?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
export const DEFAULT_ROLE_ANNOTATION = 'vault-docker-login.io/role';

export const KUBELET_SECTION = section({
  cache_key_type: opt(oneOf(CACHE_KEY_TYPES)),
  cache_margin: opt(duration()),
  default_cache_duration: opt(duration()),
  role_annotation: opt(
    value(
      (v) => (typeof v === 'string' && ANNOTATION.test(v) ? v : undefined),
      (v) =>
        `must be an annotation key such as ${DEFAULT_ROLE_ANNOTATION}; got ${JSON.stringify(v)}.`,
    ),
  ),
});

export const DRIVER_SECTION = section({ socket: opt(text()) });

/** A section judged by its own schema afterwards. */
const anything = (v: unknown) => v;

/** The file's top level: the shared sections, then each entry point's own. */
export const TOP_LEVEL = section({
  vault: anything,
  auth: anything,
  registries: anything,
  engine_mount: withDefault(checkedText(pathLike), 'dockerhub'),
  label: opt(text()),
  credential_helper: anything,
  kubelet: anything,
  driver: anything,
});
