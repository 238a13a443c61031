// One schema per section of the host configuration file. Every host entry point (credential
// helper, kubelet provider, Swarm driver) reads the file through all of them, so one shared
// /etc/vault-docker-login/config.yml serves each, and a mistake in any section is found by each.
// Sections give the settings' form; what they mean (defaults, cross-checks) is the entry point's.
import * as z from 'zod/mini';
import {
  absolutePath,
  checkedText,
  duration,
  flag,
  oneOf,
  section,
  text,
  value,
} from './host-config-fields.js';
import { pathLike, segment } from './validators.js';

const opt = z.optional;
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

const mount = (fallback: string) => z._default(checkedText(pathLike), fallback);
const need = (method: string, why: string) => `is required with auth.method ${method}: ${why}.`;

export const AUTH_METHODS = ['token', 'token_file', 'jwt', 'approle'] as const;

/** The `auth` section takes the keys of its `method`. */
export const AUTH_SECTIONS = {
  token: section({ method: z.literal('token') }),
  token_file: section({
    method: z.literal('token_file'),
    token_file: text(need('token_file', 'the Vault Agent sink file')),
  }),
  jwt: section({
    method: z.literal('jwt'),
    mount: mount('jwt'),
    role: checkedText(segment, need('jwt', 'the JWT role to log in with')),
    jwt_file: opt(text()),
  }),
  approle: z.pipe(
    section({
      method: z.literal('approle'),
      mount: mount('approle'),
      role_id: opt(text()),
      role_id_file: opt(text()),
      secret_id_file: text(need('approle', 'the file holding the secret_id or its wrapping token')),
      secret_id_wrapped: z._default(flag(), false),
      role_name: opt(checkedText(segment)),
      state_dir: opt(absolutePath()),
    }),
    z.transform((a, ctx) => {
      if (!a.role_id === !a.role_id_file)
        ctx.issues.push({
          code: 'custom',
          message: 'or auth.role_id_file is required (one of them).',
          path: ['role_id'],
          input: a,
        });
      return a;
    }),
  ),
};

export const AUTH_METHOD = section({
  method: z._default(oneOf(AUTH_METHODS), 'token'),
});

const IDENTITIES = ['github', 'jwt_env', 'jwt_file'] as const;
const RELOGIN = z.pipe(
  section({
    identity: z._default(oneOf(IDENTITIES), 'github'),
    jwt_env: opt(text()),
    jwt_file: opt(text()),
    mount: z._default(text(), 'jwt'),
    role: text('is required.'),
    audience: opt(text()),
  }),
  z.transform((r, ctx) => {
    const key = r.identity === 'github' ? undefined : r.identity;
    if (key && !r[key])
      ctx.issues.push({
        code: 'custom',
        message: `is required with credential_helper.job.relogin.identity ${key}.`,
        path: [key],
        input: r,
      });
    return r;
  }),
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
  job: opt(section({ renew: z._default(flag(), true), relogin: opt(RELOGIN) })),
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

/** The file's top level: the shared sections, then each entry point's own. */
export const TOP_LEVEL = section({
  vault: opt(z.unknown()),
  auth: opt(z.unknown()),
  registries: opt(z.unknown()),
  engine_mount: z._default(checkedText(pathLike), 'dockerhub'),
  label: opt(text()),
  credential_helper: opt(z.unknown()),
  kubelet: opt(z.unknown()),
  driver: opt(z.unknown()),
});
