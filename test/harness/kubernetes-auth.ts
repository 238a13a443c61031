// Vault's JWT auth configured as for a Kubernetes cluster's service account issuer (the test issuer
// plays the cluster): one role per service account, bound by `sub`
// (system:serviceaccount:<namespace>:<name>) and the audience the kubelet requests.
import { baoApi } from './approle.js';
import type { TestEnv } from './types.js';

export interface ServiceAccountRole {
  name: string;
  namespace: string;
  serviceAccount: string;
  /** Vault paths the role's token may write (create, update): the engine paths it may lease. */
  paths: string[];
  tokenTtl?: string;
}

export const KUBE_MOUNT = 'kubernetes';
export const KUBE_AUDIENCE = 'vault-docker-login';

/** Mounts the JWT auth method at `mount` (once) trusting the issuer, and writes the roles. */
export async function kubernetesAuth(
  env: Pick<TestEnv, 'baoAddr' | 'rootToken' | 'issuer'>,
  roles: ServiceAccountRole[],
  mount = KUBE_MOUNT,
): Promise<void> {
  const mounts = (await baoApi(env, 'GET', 'sys/auth')) as Record<string, unknown>;
  if (!(`${mount}/` in ((mounts.data as Record<string, unknown>) ?? mounts))) {
    await baoApi(env, 'POST', `sys/auth/${mount}`, { type: 'jwt' });
    await baoApi(env, 'POST', `auth/${mount}/config`, {
      jwks_url: `${env.issuer.url}/jwks`,
      bound_issuer: env.issuer.url,
    });
  }
  for (const r of roles) {
    const policy = r.paths
      .map((p) => `path "${p}" {\n  capabilities = ["create", "update"]\n}\n`)
      .join('\n');
    await baoApi(env, 'PUT', `sys/policies/acl/${r.name}`, { policy });
    await baoApi(env, 'POST', `auth/${mount}/role/${r.name}`, {
      role_type: 'jwt',
      bound_audiences: [KUBE_AUDIENCE],
      bound_subject: `system:serviceaccount:${r.namespace}:${r.serviceAccount}`,
      user_claim: 'sub',
      token_policies: [r.name],
      token_ttl: r.tokenTtl ?? '10m',
    });
  }
}
