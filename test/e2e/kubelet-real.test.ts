// The kubelet credential provider run by the real kubelet (k8s.io/kubernetes, built by
// scripts/build/kubelet.sh), standalone: static pods on the host network, containerd from Debian
// over CRI, the pause image from the harness registry. The node logs in to OpenBao with AppRole
// (a response-wrapped secret_id), as docs/kubelet-provider.md recommends. Shown: the private image
// pulled with the provider's credential, a second image of the registry served from the kubelet's
// cache, a kubelet restarted in the middle of a provider run, and a denied role's message in the
// kubelet's log with the pod in ErrImagePull.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { makeAppRole } from '../harness/approle.js';
import { type Containerd, startContainerd } from '../harness/containerd.js';
import { type DaemonEnv, startEnv } from '../harness/index.js';
import { installProvider, kubeletConfig, revokeLeases } from '../harness/kubelet-provider.js';
import { findLeaks } from '../harness/leak.js';
import { type PodStatus, type RealKubelet, startRealKubelet } from '../harness/real-kubelet.js';

let env: DaemonEnv;
let dir: string;
let containerd: Containerd | undefined;
let kubelet: RealKubelet | undefined;
let providerFile: string;
const images: Record<string, string> = {};
const extraSecrets: string[] = [];

const running = (s: PodStatus | undefined) => !!s?.containerStatuses?.[0]?.state.running;
const waitingReason = (s: PodStatus | undefined) =>
  s?.containerStatuses?.[0]?.state.waiting?.reason;

/** The provider's own configuration: AppRole `role` with a wrapped secret_id, its own state dir. */
async function useRole(name: string, policies: string[]): Promise<void> {
  const role = await makeAppRole(env, name, policies);
  const wrapped = await role.wrappedSecretId('5m');
  extraSecrets.push(wrapped);
  const secretIdFile = join(dir, `${name}.secret-id`);
  writeFileSync(secretIdFile, wrapped, { mode: 0o600 });
  writeFileSync(
    providerFile,
    stringify({
      vault: { url: env.vaultAddr },
      auth: {
        method: 'approle',
        role_id: role.roleId,
        secret_id_file: secretIdFile,
        secret_id_wrapped: true,
        role_name: name,
        state_dir: join(dir, `state-${name}`),
      },
      registries: [
        {
          registry: env.registry.host,
          secret_path: `dockerhub/token/${env.fixtures.account}/read`,
        },
      ],
    }),
    { mode: 0o600 },
  );
}

beforeAll(async () => {
  env = await startEnv({ daemon: true });
  dir = join(env.tmpDir, 'real-kubelet');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const admin = env.registry.admin;
  // The pause image: busybox sleeping forever. containerd pulls it with a credential allowed only
  // that repository, so it cannot pull a pod's image without the kubelet's credential.
  const [sandboxImage, ...more] = await Promise.all([
    env.daemon.pushPrivateImage(env.registry, admin, 'k8s/pause', ['/bin/sleep', 'infinity']),
    env.daemon.pushPrivateImage(env.registry, admin, 'acme/second'),
    env.daemon.pushPrivateImage(env.registry, admin, 'acme/restarted'),
    env.daemon.pushPrivateImage(env.registry, admin, 'acme/denied'),
  ]);
  for (const [i, name] of ['second', 'restarted', 'denied'].entries()) images[name] = more[i] ?? '';
  const sandboxCreds = { username: 'kube-sandbox', secret: randomBytes(24).toString('base64url') };
  extraSecrets.push(sandboxCreds.secret);
  env.registry.addSecret(sandboxCreds.username, sandboxCreds.secret, ['pull'], ['k8s/pause']);
  containerd = await startContainerd(join(dir, 'containerd'), {
    sandboxImage: sandboxImage as string,
    registryHost: env.registry.host,
    sandboxCreds,
  });

  providerFile = join(dir, 'provider.yml');
  await useRole('kubelet-node', ['dockerhub-rw']);
  const credentialProviders = join(dir, 'credential-providers.yaml');
  writeFileSync(
    credentialProviders,
    stringify(
      kubeletConfig({
        configFile: providerFile,
        matchImages: [env.registry.host],
        defaultCacheDuration: '5m',
      }),
    ),
  );
  kubelet = await startRealKubelet(join(dir, 'kubelet'), {
    runtimeEndpoint: containerd.endpoint,
    providerConfigFile: credentialProviders,
    providerBinDir: installProvider(dir),
  });
}, 240_000);

afterAll(async () => {
  const closed = await Promise.allSettled([
    (async () => {
      await kubelet?.stop();
      await containerd?.stop();
    })(),
  ]);
  const logs = `${kubelet?.logs() ?? ''}\n${containerd?.logs() ?? ''}`;
  if (env) {
    await revokeLeases(env);
    const leaks = findLeaks(logs, [...env.secrets(), ...extraSecrets]);
    await env.stop();
    expect(leaks).toEqual([]);
  }
  for (const c of closed) if (c.status === 'rejected') throw c.reason;
}, 120_000);

/** Pulls of `repository` the registry's token service granted since `since`, by user. */
const pullsOf = (repository: string, since: number) =>
  env.registry.authRequests
    .filter((r) => r.at >= since && r.granted.includes(`repository:${repository}:pull`))
    .map((r) => r.username);

describe('the real kubelet runs vault-credential-provider', () => {
  it("pulls the pod's private image with the provider's credential", async () => {
    const k = kubelet as RealKubelet;
    const t0 = Date.now();
    await k.addPod('private', env.privateImage);
    await k.waitPod('private', running, 120_000);
    expect(await k.providerRuns()).toBe(1);
    // One lease; the registry granted the pull to the Docker Hub token it holds, nobody else.
    expect(env.engine.liveLeases()).toHaveLength(1);
    const tokens = env.hub.liveTokens();
    expect(tokens).toHaveLength(1);
    const users = pullsOf('acme/private', t0);
    expect(users.length).toBeGreaterThan(0);
    expect(new Set(users)).toEqual(new Set([env.fixtures.account]));
    expect(await containerd?.images()).toContain(env.privateImage);
  }, 180_000);

  it("serves a second pod of the registry from the kubelet's cache: the provider does not run", async () => {
    const k = kubelet as RealKubelet;
    const t0 = Date.now();
    await k.addPod('second', images.second as string);
    await k.waitPod('second', running, 120_000);
    expect(await k.providerRuns()).toBe(1);
    expect(env.engine.liveLeases()).toHaveLength(1);
    expect(new Set(pullsOf('acme/second', t0))).toEqual(new Set([env.fixtures.account]));
  }, 180_000);

  it('a kubelet restarted in the middle of a provider run pulls at its first run after', async () => {
    const k = kubelet as RealKubelet;
    // A fresh kubelet (its cache is in memory), then Vault slow to answer its AppRole login.
    await k.kill();
    await k.addPod('restarted', images.restarted as string);
    env.engine.faults.add({ path: '/v1/auth/approle/login', delayMs: 20_000, times: 1 });
    const logins = () =>
      env.engine.requests.filter((r) => r.path === '/v1/auth/approle/login').length;
    const before = logins();
    await k.start();
    const t0 = Date.now();
    while (logins() === before) {
      if (Date.now() - t0 > 60_000) throw new Error('the provider never logged in');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(k.providerProcesses().length).toBeGreaterThan(0);
    // As `systemctl restart kubelet` does: SIGTERM to the kubelet and every process it started.
    await k.kill({ children: true });
    expect(k.providerProcesses()).toEqual([]);
    const logged = k.logs().length;
    const restarted = Date.now();
    await k.start();
    const status = await k.waitPod(
      'restarted',
      (s) => running(s) || waitingReason(s) === 'ErrImagePull',
      120_000,
    );
    const ms = Date.now() - restarted;
    console.log(
      `[real kubelet] restart during a provider run: pod running ${ms} ms after the restart`,
    );
    expect(waitingReason(status)).toBeUndefined();
    expect(running(status)).toBe(true);
    // The first run after the restart got the credential.
    expect(await k.providerRuns()).toBe(1);
    expect(k.logs().slice(logged)).not.toMatch(/Failed to provide credentials for image/);
  }, 180_000);

  it("a denied role: the pod shows ErrImagePull and the kubelet logs the provider's message", async () => {
    const k = kubelet as RealKubelet;
    const t0 = Date.now();
    await k.kill();
    await useRole('kubelet-denied', ['dockerhub-read-only']);
    await k.start();
    await k.addPod('denied', images.denied as string);
    const status = await k.waitPod('denied', (s) => waitingReason(s) === 'ErrImagePull', 120_000);
    expect(status?.containerStatuses?.[0]?.state.waiting?.message).toMatch(/authoriz/i);
    expect(k.logs()).toMatch(
      /Failed to provide credentials for image[\s\S]*?acme\/denied: exit status 1: vault-credential-provider: Vault denied writing/,
    );
    expect(pullsOf('acme/denied', t0)).toEqual([]);
  }, 180_000);
});
