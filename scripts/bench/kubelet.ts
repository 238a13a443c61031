// The kubelet credential provider's part of the benchmark: how long one provider run takes (the
// kubelet waits for it on a cache miss), with node identity (AppRole) and workload identity (the
// pod's service account token), and how many Vault requests a pull costs when the kubelet caches
// the answers as it does: two service accounts, many pulls each within the cache time.
// Phases are read off the engine stand-in's request log, so nothing in the provider is timed.
// The floor, interleaved with the node identity runs: a provider that only answers (Node's start,
// the kubelet's exec, stdin and stdout, in the provider's own environment) plus the AppRole login
// and the lease made by hand.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeAppRole } from '../../test/harness/approle.js';
import { startEnv } from '../../test/harness/index.js';
import type { Kubelet, Pod, ProviderExec } from '../../test/harness/kubelet.js';
import {
  installProvider,
  kubeletConfig,
  PROVIDER,
  revokeLeases,
  startKubelet,
  writeProviderConfig,
} from '../../test/harness/kubelet-provider.js';
import { KUBE_MOUNT, kubernetesAuth } from '../../test/harness/kubernetes-auth.js';
import type { SeenRequest, TestEnv } from '../../test/harness/types.js';
import { vault } from './action.js';
import { add, median, ratio, type Series, sumOfMedians, table } from './stats.js';

const WARMUP = 2;
const PULLS_PER_ACCOUNT = 50;
/** Not in the bounds: the kubelet waits for a run only on a cache miss. */
const BOUND = 2;
const FLOOR = ['provider that only answers', 'AppRole login + lease by hand'];

/** A bin dir whose provider reads the request and answers at once with a fixed credential. */
function answeringProvider(dir: string, registry: string): string {
  const bin = join(dir, 'floor-bin');
  mkdirSync(bin, { recursive: true });
  const answer = {
    kind: 'CredentialProviderResponse',
    apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
    cacheKeyType: 'Registry',
    auth: { [registry]: { username: 'floor', password: 'floor' } },
  };
  const file = join(bin, PROVIDER);
  writeFileSync(
    file,
    `#!/usr/bin/env node\nprocess.stdin.resume().on('end', () => process.stdout.write(${JSON.stringify(JSON.stringify(answer))}));\n`,
  );
  chmodSync(file, 0o755);
  return bin;
}

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
  floor?: (keep: boolean) => Promise<void>,
): Promise<Series> {
  const s: Series = {};
  for (let i = 0; i < n + WARMUP; i++) {
    await floor?.(i >= WARMUP);
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
    const role = await makeAppRole(env, 'bench-node', ['dockerhub-rw']);
    const secretId = join(dir, 'secret-id');
    const secretIdText = await role.secretId();
    writeFileSync(secretId, secretIdText, { mode: 0o600 });
    const nodeFile = writeProviderConfig(dir, {
      vault: { url: env.vaultAddr },
      auth: {
        method: 'approle',
        role_id: role.roleId,
        secret_id_file: secretId,
        state_dir: join(dir, 'state'),
      },
      registries,
    });
    await kubernetesAuth(env, [
      { name: 'bench-a', namespace: 'team-a', serviceAccount: 'app', paths: [path] },
      { name: 'bench-b', namespace: 'team-b', serviceAccount: 'app', paths: [path] },
    ]);
    const workloadFile = writeProviderConfig(dir, {
      vault: { url: env.vaultAddr },
      auth: { method: 'jwt', mount: KUBE_MOUNT, role: 'bench-a' },
      registries,
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

    const floorBin = answeringProvider(dir, env.registry.host);
    const floor: Series = {};
    const measureFloor = async (keep: boolean) => {
      const k = startKubelet(
        env,
        floorBin,
        kubeletConfig({ configFile: nodeFile, matchImages: match }),
      );
      await k.credentialsFor(`${env.registry.host}/bench/app`);
      const [e] = k.execs;
      if (e?.code !== 0) throw new Error(`the answering provider failed: ${e?.stderr}`);
      const t0 = performance.now();
      const login = await vault(`${env.vaultAddr}/v1/auth/${role.mount}/login`, 'POST', {
        role_id: role.roleId,
        secret_id: secretIdText,
      });
      if (login.status !== 200) throw new Error(`floor: the login answered ${login.status}`);
      const token = login.json.auth.client_token as string;
      const lease = await vault(`${env.vaultAddr}/v1/${path}`, 'POST', {}, token);
      if (lease.status !== 200) throw new Error(`floor: the lease answered ${lease.status}`);
      const ms = performance.now() - t0;
      const revoked = await vault(
        `${env.vaultAddr}/v1/auth/token/revoke-self`,
        'POST',
        undefined,
        token,
      );
      if (revoked.status !== 204) throw new Error(`floor: revoke-self answered ${revoked.status}`);
      if (!keep) return;
      add(floor, FLOOR[0] as string, e.ms);
      add(floor, FLOOR[1] as string, ms);
    };
    const node = await runs(env, nodeKubelet, undefined, n, measureFloor);
    const nodeRatio = ratio(
      'Kubelet provider run, node identity',
      Number(median(node.total)),
      sumOfMedians(floor, FLOOR),
      BOUND,
    );
    const workload = await runs(env, workloadKubelet, podOf('team-a', 'bench-a', 0), n);
    await revokeLeases(env);

    // Many pulls of two service accounts through one kubelet, within the cache time.
    const k = workloadKubelet();
    const t0 = Date.now();
    for (let i = 0; i < PULLS_PER_ACCOUNT; i++) {
      await k.credentialsFor(`${env.registry.host}/a/app-${i}`, podOf('team-a', 'bench-a', i));
      await k.credentialsFor(`${env.registry.host}/b/app-${i}`, podOf('team-b', 'bench-b', i));
    }
    const seen = env.engine.requests.filter((r) => r.at >= t0);
    const pulls = 2 * PULLS_PER_ACCOUNT;
    await revokeLeases(env);
    if (env.engine.liveLeases().length > 0) throw new Error('the benchmark left leases alive');

    return [
      '## Kubelet credential provider',
      '',
      table('Kubelet provider run, node identity (AppRole)', node),
      '',
      table('floor of a provider run', floor),
      '',
      `- ${nodeRatio.line}`,
      '',
      table('Kubelet provider run, workload identity (service account token)', workload),
      '',
      '| Kubelet pulls: 2 service accounts x 50 pulls, ServiceAccount cache | count |',
      '|---|---:|',
      `| provider runs | ${k.execs.length} |`,
      `| Vault requests | ${seen.length} |`,
      `| Vault requests per pull | ${(seen.length / pulls).toFixed(2)} |`,
      `| Vault requests per provider run | ${(seen.length / Math.max(1, k.execs.length)).toFixed(0)} |`,
      '',
    ].join('\n');
  } finally {
    await env.stop();
  }
}
