// The kubelet credential provider with workload identity (KEP-4412): the kubelet hands the pod's
// service account token to the provider, which logs in to Vault's JWT auth as the role the
// service account names (annotation) or the configured one. Each Vault role is bound to one
// service account (bound_subject), so a service account gets only what its own role allows. The
// credentials pull the private image through the real Docker daemon.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonEnv, startEnv } from '../harness/index.js';
import type { Kubelet, Pod, ProviderExec } from '../harness/kubelet.js';
import {
  installProvider,
  kubeletConfig,
  printedByProvider,
  revokeLeases,
  startKubelet,
  writeProviderConfig,
} from '../harness/kubelet-provider.js';
import { kubeletPull } from '../harness/kubelet-pull.js';
import { KUBE_MOUNT, kubernetesAuth } from '../harness/kubernetes-auth.js';
import { expectNoLeaks } from '../harness/leak.js';
import { expectNothingAlive } from './expect-clean.js';
import { CREDENTIAL_REFUSED, PULL_DENIED } from './expect-pull.js';

const ROLE = 'vault-docker-login.io/role';

let env: DaemonEnv;
let dir: string;
let binDir: string;
let configFile: string;
const execs: ProviderExec[] = [];

beforeAll(async () => {
  env = await startEnv({ daemon: true });
  dir = join(env.tmpDir, 'kubelet');
  mkdirSync(dir, { recursive: true });
  binDir = installProvider(dir);
  const { account, accountNoAdmin } = env.fixtures;
  await kubernetesAuth(env, [
    {
      name: 'pull-a',
      namespace: 'team-a',
      serviceAccount: 'puller',
      paths: [`dockerhub/token/${account}/read`],
    },
    // Allowed another account only: not the registry the provider maps.
    {
      name: 'pull-b',
      namespace: 'team-b',
      serviceAccount: 'builder',
      paths: [`dockerhub/token/${accountNoAdmin}/read`],
    },
    {
      name: 'pull-c',
      namespace: 'team-c',
      serviceAccount: 'deployer',
      paths: [`dockerhub/token/${account}/read`],
    },
  ]);
  configFile = provider({ method: 'jwt', mount: KUBE_MOUNT, role: 'pull-a' });
});
afterEach(async () => {
  await revokeLeases(env);
  expectNothingAlive(env);
});
afterAll(async () => {
  if (!env) return;
  expectNoLeaks(printedByProvider(execs), env.secrets());
  await env.stop();
});

function provider(auth: Record<string, unknown>): string {
  return writeProviderConfig(dir, {
    vault: { url: env.vaultAddr },
    auth,
    registries: [
      { registry: env.registry.host, secret_path: `dockerhub/token/${env.fixtures.account}/read` },
    ],
  });
}

/** A kubelet passing service account tokens and the role annotation to the provider. */
function workloadKubelet(
  sa: Parameters<typeof kubeletConfig>[0]['serviceAccount'] = {},
  file = configFile,
) {
  return startKubelet(
    env,
    binDir,
    kubeletConfig({
      configFile: file,
      matchImages: [env.registry.host],
      serviceAccount: { optional: [ROLE], ...sa },
    }),
  );
}

let pods = 0;
const pod = (namespace: string, serviceAccount: string, role?: string): Pod => ({
  namespace,
  name: `${serviceAccount}-${++pods}`,
  serviceAccount: {
    namespace,
    name: serviceAccount,
    ...(role && { annotations: { [ROLE]: role } }),
  },
});

async function pull(k: Kubelet, image: string, p?: Pod) {
  const before = k.execs.length;
  const creds = await k.credentialsFor(image, p);
  const ran = k.execs.slice(before);
  execs.push(...ran);
  return { creds, ran };
}

/** A real pull of the private image through the daemon, with what the kubelet's providers gave. */
async function pullPrivate(k: Kubelet, p: Pod) {
  const before = k.execs.length;
  const result = await kubeletPull(k, env.daemon, env.privateImage, env.tmpDir, p);
  const ran = k.execs.slice(before);
  execs.push(...ran);
  return { result, ran };
}

const requestOf = (e: ProviderExec) => JSON.parse(e.request) as Record<string, unknown>;

describe('service account tokens', () => {
  it('a service account logs in as its role and pulls the private image; a role that may not lease it is refused, never handed the cached credential', async () => {
    const k = workloadKubelet();
    const a = await pullPrivate(k, pod('team-a', 'puller'));
    expect(a.result.code, a.result.stderr).toBe(0);
    expect(a.ran[0]).toMatchObject({ code: 0, stderr: '' });
    expect(a.ran[0]?.rejected).toBeUndefined();
    // The kubelet sent the token for the audience; no annotation, so the role is auth.role.
    expect(requestOf(a.ran[0] as ProviderExec)).toEqual({
      kind: 'CredentialProviderRequest',
      apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
      image: env.privateImage.replace(/:1$/, ''),
      serviceAccountToken: expect.stringMatching(/^eyJ/),
    });

    // team-b's role may lease only another account: refused, although team-a's answer is cached
    // for this very registry; the pull goes anonymous and is denied.
    const b = await pullPrivate(k, pod('team-b', 'builder', 'pull-b'));
    expect(b.result).toMatchObject({ code: 1, credentials: 0 });
    expect(b.result.stderr).toMatch(PULL_DENIED);
    expect(b.ran).toHaveLength(1);
    expect(requestOf(b.ran[0] as ProviderExec).serviceAccountAnnotations).toEqual({
      [ROLE]: 'pull-b',
    });
    expect(b.ran[0]?.code).toBe(1);
    expect(b.ran[0]?.stderr).toMatch(
      new RegExp(`Vault denied writing dockerhub/token/${env.fixtures.account}/read \\(403`),
    );

    // Once the lease ends, the credential the kubelet still caches is refused by the registry.
    await revokeLeases(env);
    const later = await pullPrivate(k, pod('team-a', 'puller'));
    expect(later.ran).toHaveLength(0);
    expect(later.result.stderr).toMatch(CREDENTIAL_REFUSED);
  });

  it("a service account cannot log in as another's role: bound_subject refuses it", async () => {
    const k = workloadKubelet();
    const { result, ran } = await pullPrivate(k, pod('team-b', 'builder', 'pull-a'));
    expect(result).toMatchObject({ code: 1, credentials: 0 });
    expect(result.stderr).toMatch(PULL_DENIED);
    expect(ran[0]?.code).toBe(1);
    expect(ran[0]?.stderr).toMatch(
      /Vault login failed for role "pull-a": .*sub.* sub: "system:serviceaccount:team-b:builder".*auth\/kubernetes\/role\/pull-a.*annotation vault-docker-login\.io\/role/,
    );
    expect(env.engine.liveLeases()).toEqual([]);
  });

  it('two service accounts, many pulls within the cache time: one Vault login and one lease each', async () => {
    const k = workloadKubelet();
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) {
      // A new pod of each service account pulls the private image through the daemon.
      const a = await pullPrivate(k, pod('team-a', 'puller'));
      const c = await pullPrivate(k, pod('team-c', 'deployer', 'pull-c'));
      expect(a.result.code, a.result.stderr).toBe(0);
      expect(c.result.code, c.result.stderr).toBe(0);
      // Other images of the registry come from the same cached answers.
      const other = await pull(k, `${env.registry.host}/team-a/app-${i}`, pod('team-a', 'puller'));
      expect(other.creds).toHaveLength(1);
    }
    const seen = env.engine.requests.filter((r) => r.at >= t0).map((r) => r.path);
    expect(k.execs).toHaveLength(2);
    expect(seen.filter((p) => p === `/v1/auth/${KUBE_MOUNT}/login`)).toHaveLength(2);
    expect(seen.filter((p) => p.startsWith('/v1/dockerhub/token/'))).toHaveLength(2);
    expect(env.engine.liveLeases()).toHaveLength(2);
  });

  it('cacheType Token caches per pod (each pod has its own token): ServiceAccount is the one to use', async () => {
    const k = workloadKubelet({ cacheType: 'Token' });
    const p = pod('team-a', 'puller');
    await pull(k, `${env.registry.host}/app`, p);
    await pull(k, `${env.registry.host}/other`, p);
    expect(k.execs).toHaveLength(1);
    await pull(k, `${env.registry.host}/app`, pod('team-a', 'puller'));
    expect(k.execs).toHaveLength(2);
  });

  it('a required annotation the service account lacks: the kubelet does not run the provider', async () => {
    const k = workloadKubelet({ required: [ROLE], optional: [] });
    const { creds, ran } = await pull(k, `${env.registry.host}/app`, pod('team-a', 'puller'));
    expect(ran).toEqual([]);
    expect(creds).toEqual([]);
  });
});

describe('workload identity misconfigured: exit 1, one line naming the fix', () => {
  const line = (e: ProviderExec | undefined) => {
    expect(e?.code).toBe(1);
    expect(e?.stdout).toBe('');
    expect(e?.stderr.trimEnd().split('\n')).toHaveLength(1);
    return e?.stderr ?? '';
  };

  it('no token in the request (no tokenAttributes, or a pod without a service account) names tokenAttributes', async () => {
    const plain = startKubelet(
      env,
      binDir,
      kubeletConfig({ configFile, matchImages: [env.registry.host] }),
    );
    const r1 = await pull(plain, `${env.registry.host}/app`, pod('team-a', 'puller'));
    expect(line(r1.ran[0])).toMatch(
      /The request carries no service account token, and auth\.method jwt in .* has no auth\.jwt_file\. Add tokenAttributes \(serviceAccountTokenAudience, cacheType: ServiceAccount, requireServiceAccount: true\)/,
    );
    const optional = workloadKubelet({ requireServiceAccount: false });
    const r2 = await pull(optional, `${env.registry.host}/app`, {
      namespace: 'kube-system',
      name: 'static-pod',
    });
    expect(line(r2.ran[0])).toMatch(/Add tokenAttributes/);
    expect(r2.creds).toEqual([]);
  });

  it('a token while auth.method is node identity', async () => {
    const k = workloadKubelet({}, provider({ method: 'token' }));
    const { ran } = await pull(k, `${env.registry.host}/app`, pod('team-a', 'puller'));
    expect(line(ran[0])).toMatch(
      /The kubelet sent the pod's service account token, but auth\.method in .* is token\. Set auth\.method to jwt/,
    );
  });

  it('an annotation that is not a role name', async () => {
    const k = workloadKubelet();
    const { ran } = await pull(k, `${env.registry.host}/app`, pod('team-a', 'puller', '../sys/x'));
    expect(line(ran[0])).toMatch(
      /annotation vault-docker-login\.io\/role is "\.\.\/sys\/x", not a Vault role name\. Set it to the name of a role on auth\/kubernetes/,
    );
  });
});
