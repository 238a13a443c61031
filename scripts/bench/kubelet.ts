// The kubelet credential provider's part of the benchmark: how long one provider run takes (the
// kubelet waits for it on a cache miss), with node identity (AppRole) and workload identity (the
// pod's service account token), and how many Vault requests a pull costs when the kubelet caches
// the answers as it does: two service accounts, many pulls each within the cache time.
// Phases are read off the engine stand-in's request log, so nothing in the provider is timed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeAppRole } from '../../test/harness/approle.js';
import { startEnv } from '../../test/harness/index.js';
import type { Kubelet, Pod, ProviderExec } from '../../test/harness/kubelet.js';
import {
  installProvider,
  kubeletConfig,
  revokeLeases,
  startKubelet,
  writeProviderConfig,
} from '../../test/harness/kubelet-provider.js';
import { KUBE_MOUNT, kubernetesAuth } from '../../test/harness/kubernetes-auth.js';
import type { SeenRequest, TestEnv } from '../../test/harness/types.js';
import { add, type Series, table } from './stats.js';

const WARMUP = 2;
const PULLS_PER_ACCOUNT = 50;

/** One provider run split at the Vault requests it made (login, then the lease). */
function phases(s: Series, e: ProviderExec, log: SeenRequest[]): void {
  const end = e.startedAt + e.ms;
  const mine = log.filter((r) => r.at >= e.startedAt && r.at <= end);
  const login = mine.find((r) => r.path.endsWith('/login'));
  const lease = mine.find((r) => r.path.startsWith('/v1/dockerhub/token/'));
  add(s, 'total', e.ms);
  if (!login || !lease) return;
  const leased = lease.doneAt ?? lease.at;
  add(s, 'start + config + request', login.at - e.startedAt);
  add(s, 'Vault login', lease.at - login.at);
  add(s, 'lease', leased - lease.at);
  add(s, 'answer + exit', end - leased);
}

async function runs(
  env: TestEnv,
  make: () => Kubelet,
  pod: Pod | undefined,
  n: number,
): Promise<Series> {
  const s: Series = {};
  for (let i = 0; i < n + WARMUP; i++) {
    // A fresh kubelet: every run is a cache miss.
    const k = make();
    const creds = await k.credentialsFor(`${env.registry.host}/bench/app`, pod);
    const [e] = k.execs;
    if (!e) throw new Error('the provider did not run');
    if (e.code !== 0 || creds.length !== 1) throw new Error(`provider run failed: ${e.stderr}`);
    if (i >= WARMUP) phases(s, e, env.engine.requests);
    if (i % 10 === 9) await revokeLeases(env);
  }
  return s;
}

export async function benchKubelet(n: number): Promise<string> {
  const env = await startEnv();
  try {
    const dir = join(env.tmpDir, 'bench-kubelet');
    mkdirSync(dir, { recursive: true });
    const bin = installProvider(dir);
    const path = `dockerhub/token/${env.fixtures.account}/read`;
    const registries = [{ registry: env.registry.host, secret_path: path }];
    const state = { state_dir: join(dir, 'state') };
    const role = await makeAppRole(env, 'bench-node', ['dockerhub-rw']);
    const secretId = join(dir, 'secret-id');
    writeFileSync(secretId, await role.secretId(), { mode: 0o600 });
    const nodeFile = writeProviderConfig(dir, {
      vault: { url: env.vaultAddr },
      auth: { method: 'approle', role_id: role.roleId, secret_id_file: secretId },
      registries,
      kubelet: state,
    });
    await kubernetesAuth(env, [
      { name: 'bench-a', namespace: 'team-a', serviceAccount: 'app', paths: [path] },
      { name: 'bench-b', namespace: 'team-b', serviceAccount: 'app', paths: [path] },
    ]);
    const workloadFile = writeProviderConfig(dir, {
      vault: { url: env.vaultAddr },
      auth: { method: 'jwt', mount: KUBE_MOUNT, role: 'bench-a' },
      registries,
      kubelet: state,
    });
    const match = [env.registry.host];
    const nodeKubelet = () =>
      startKubelet(env, bin, kubeletConfig({ configFile: nodeFile, matchImages: match }));
    const workloadKubelet = () =>
      startKubelet(
        env,
        bin,
        kubeletConfig({
          configFile: workloadFile,
          matchImages: match,
          serviceAccount: { optional: ['vault-docker-login.io/role'] },
        }),
      );
    const podOf = (ns: string, role: string, i: number): Pod => ({
      namespace: ns,
      name: `app-${i}`,
      serviceAccount: {
        namespace: ns,
        name: 'app',
        annotations: { 'vault-docker-login.io/role': role },
      },
    });

    const node = await runs(env, nodeKubelet, undefined, n);
    const workload = await runs(env, workloadKubelet, podOf('team-a', 'bench-a', 0), n);
    await revokeLeases(env);

    // Many pulls of two service accounts through one kubelet, within the cache time.
    const k = workloadKubelet();
    const t0 = Date.now();
    for (let i = 0; i < PULLS_PER_ACCOUNT; i++) {
      await k.credentialsFor(`${env.registry.host}/a/app-${i}`, podOf('team-a', 'bench-a', i));
      await k.credentialsFor(`${env.registry.host}/b/app-${i}`, podOf('team-b', 'bench-b', i));
    }
    const vault = env.engine.requests.filter((r) => r.at >= t0);
    const pulls = 2 * PULLS_PER_ACCOUNT;
    await revokeLeases(env);
    if (env.engine.liveLeases().length > 0) throw new Error('the benchmark left leases alive');

    return [
      '## Kubelet credential provider',
      '',
      table('Kubelet provider run, node identity (AppRole)', node),
      '',
      table('Kubelet provider run, workload identity (service account token)', workload),
      '',
      '| Kubelet pulls: 2 service accounts x 50 pulls, ServiceAccount cache | count |',
      '|---|---:|',
      `| provider runs | ${k.execs.length} |`,
      `| Vault requests | ${vault.length} |`,
      `| Vault requests per pull | ${(vault.length / pulls).toFixed(2)} |`,
      `| Vault requests per provider run | ${(vault.length / Math.max(1, k.execs.length)).toFixed(0)} |`,
      '',
    ].join('\n');
  } finally {
    await env.stop();
  }
}
