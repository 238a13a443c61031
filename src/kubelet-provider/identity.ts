// Who logs in to Vault for this pull. With tokenAttributes in the kubelet's configuration the
// request carries the pod's service account token: it logs in to Vault's JWT auth as the role the
// service account's annotation names (else auth.role), so each service account gets only what its
// role allows; the role's bound_subject keeps one service account out of another's role. Without a
// token, the node's own identity (auth section: token file, AppRole, JWT file) logs in.
import { authMethod } from '../auth/from-settings.js';
import type { AuthMethod } from '../auth/method.js';
import { VaultHttpError, VdlError } from '../core/errors.js';
import type { HostConfig } from '../core/host-config.js';
import { decodeClaims } from '../core/jwt-claims.js';
import type { ProviderRequest } from './request.js';
import type { KubeletSettings } from './settings.js';

/** `namespace/name` of the token's service account, from its subject (for messages and labels). */
export function serviceAccountOf(token: string): string | undefined {
  const sub = decodeClaims(token).sub;
  const m = typeof sub === 'string' ? /^system:serviceaccount:([^:]+):([^:]+)$/.exec(sub) : null;
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/** A refused login says where the role came from when the service account named it. */
function namedByAnnotation(method: AuthMethod, key: string): AuthMethod {
  return {
    describe: method.describe,
    async login(vault, now) {
      try {
        return await method.login(vault, now);
      } catch (err) {
        if (!(err instanceof VaultHttpError) || err.kind !== 'vault-login') throw err;
        const hint = `${err.hint ?? ''} The role is named by the service account's annotation ${key}: fix it there, or remove it to use auth.role.`;
        throw new VaultHttpError(
          err.status,
          err.path,
          err.errors,
          err.kind,
          hint.trim(),
          err.message,
        );
      }
    },
  };
}

function roleFor(mount: string, s: KubeletSettings, req: ProviderRequest): string | undefined {
  const value = req.annotations[s.roleAnnotation]?.trim();
  if (value === undefined || value === '') return undefined;
  if (!/^[\w.@:-]+$/.test(value) || value === '.' || value === '..')
    throw new VdlError(
      'config',
      `The service account's annotation ${s.roleAnnotation} is ${JSON.stringify(value)}, not a Vault role name.`,
      `Set it to the name of a role on auth/${mount} (letters, digits and . _ - @ :).`,
    );
  return value;
}

export function chooseIdentity(
  cfg: HostConfig,
  s: KubeletSettings,
  req: ProviderRequest,
  deps: { env: NodeJS.ProcessEnv },
): AuthMethod {
  const common = { env: deps.env, namespace: cfg.connection.authNamespace };
  const token = req.serviceAccountToken;
  if (token) {
    if (cfg.auth.method !== 'jwt')
      throw new VdlError(
        'config',
        `The kubelet sent the pod's service account token, but auth.method in ${cfg.file} is ${cfg.auth.method}.`,
        "Set auth.method to jwt (with auth.mount and auth.role) to log in as the pod's service account, or remove tokenAttributes from this provider in the kubelet's CredentialProviderConfig.",
      );
    const sa = serviceAccountOf(token) ?? 'the pod';
    const named = roleFor(cfg.auth.mount, s, req);
    const method = authMethod(
      { ...cfg.auth, role: named ?? cfg.auth.role },
      {
        ...common,
        identity: {
          provider: { getToken: async () => token },
          source: `the service account token of ${sa} (from the kubelet)`,
        },
      },
    );
    return named ? namedByAnnotation(method, s.roleAnnotation) : method;
  }
  if (cfg.auth.method === 'jwt' && !cfg.auth.jwtFile)
    throw new VdlError(
      'config',
      `The request carries no service account token, and auth.method jwt in ${cfg.file} has no auth.jwt_file.`,
      "Add tokenAttributes (serviceAccountTokenAudience, cacheType: ServiceAccount, requireServiceAccount: true) to this provider in the kubelet's CredentialProviderConfig, or set auth.jwt_file to log in as the node.",
    );
  return authMethod(cfg.auth, common);
}
