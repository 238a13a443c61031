// docs/kubelet-provider.md is code: its Vault snippets run with the real bao CLI (as `vault`)
// against OpenBao, its provider configuration files are the provider's, and its kubelet
// configurations and ServiceAccount are what the kubelet emulation runs, on a node whose /etc and
// /var/lib are directories of this test. Only the values that differ from one place to another are
// swapped: the Vault address, the registry host, the Docker Hub account, the cluster's issuer
// (ISSUER, as the docs say). The shared snippet runner (docs-snippets.test.ts) runs the same
// snippets verbatim; this file logs in and pulls with what they create.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { baoApi } from '../harness/approle.js';
import { docBlock } from '../harness/doc-blocks.js';
import { type DaemonEnv, startEnv } from '../harness/index.js';
import { issuerPublicKeyPem } from '../harness/issuer-key.js';
import type { Kubelet, Pod, ProviderExec } from '../harness/kubelet.js';
import { parseKubeletConfig } from '../harness/kubelet-config.js';
import {
  installProvider,
  printedByProvider,
  revokeLeases,
  startKubelet,
} from '../harness/kubelet-provider.js';
import { kubeletPull } from '../harness/kubelet-pull.js';
import { expectNoLeaks } from '../harness/leak.js';
import { run } from '../harness/procs.js';
import { expectNothingAlive } from './expect-clean.js';

const DOC = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'docs',
  'kubelet-provider.md',
);

let env: DaemonEnv;
let root: string;
let shims: string;
let binDir: string;
let printed = '';
const extraSecrets: string[] = [];
const execs: ProviderExec[] = [];

beforeAll(async () => {
  env = await startEnv({ daemon: true });
  root = join(env.tmpDir, 'node');
  mkdirSync(join(root, 'etc', 'vault-docker-login'), { recursive: true });
  binDir = installProvider(env.tmpDir);
  shims = join(env.tmpDir, 'shims');
  mkdirSync(shims);
  // The docs say `vault`; OpenBao's CLI takes the same commands.
  writeFileSync(join(shims, 'vault'), '#!/bin/sh\nexec bao "$@"\n');
  chmodSync(join(shims, 'vault'), 0o755);
  // The KV secret the docs name, holding the registry's static credential.
  const fx = env.fixtures;
  const kv = await baoApi(env, 'GET', `${fx.kvMount}/data/${fx.kvPath}`);
  await baoApi(env, 'POST', `${fx.kvMount}/data/registry/example`, {
    data: (kv.data as { data: unknown }).data,
  });
});
afterEach(async () => {
  await revokeLeases(env);
  expectNothingAlive(env);
});
afterAll(async () => {
  if (!env) return;
  expectNoLeaks(`${printed}\n${printedByProvider(execs)}`, [...env.secrets(), ...extraSecrets]);
  await env.stop();
});

/** A block of the page, verbatim. */
const block = (name: string) => docBlock(DOC, name);

/** This node's paths and this environment's addresses in place of the documented ones. */
function onThisNode<T>(doc: T): T {
  const swap = (s: string) =>
    s
      .replaceAll('/etc/vault-docker-login/', `${root}/etc/vault-docker-login/`)
      .replaceAll('https://vault.example.com', env.vaultAddr)
      .replaceAll('registry.example.com', env.registry.host)
      .replaceAll('myorg-bot', env.fixtures.account);
  const walk = (v: unknown): unknown =>
    typeof v === 'string'
      ? swap(v)
      : Array.isArray(v)
        ? v.map(walk)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
          : v;
  return walk(doc) as T;
}

/** Runs a documented shell snippet with the real CLI; VAULT_ADDR and VAULT_TOKEN as a user has them. */
async function sh(name: string, cwd: string, vars: Record<string, string> = {}) {
  const r = await run(
    'bash',
    [
      '--norc',
      '--noprofile',
      '-euo',
      'pipefail',
      '-c',
      `cd "$0" && ${onThisNode(block(name))}`,
      cwd,
    ],
    {
      env: {
        PATH: `${shims}:${process.env.PATH}`,
        HOME: cwd,
        VAULT_ADDR: env.baoAddr,
        VAULT_TOKEN: env.rootToken,
        ...vars,
      },
    },
  );
  printed += `${r.stdout}\n${r.stderr}\n`;
  expect(r.stderr, `snippet ${name}`).toBe('');
  expect(r.code, `snippet ${name}: ${r.stderr}`).toBe(0);
}

/** Installs a documented provider configuration as the node's config.yml. */
function installProviderConfig(name: string): void {
  const doc = onThisNode(parse(block(name)) as Record<string, unknown>);
  // The state directory's default, /var/lib/vault-docker-login, on this node.
  const auth = doc.auth as Record<string, unknown>;
  if (auth?.method === 'approle') auth.state_dir = join(root, 'var', 'lib', 'vault-docker-login');
  writeFileSync(join(root, 'etc', 'vault-docker-login', 'config.yml'), stringify(doc), {
    mode: 0o600,
  });
}

/** True when the kubelet's credentials pull `image`: through the daemon for the private image. */
async function pull(k: Kubelet, image: string, pod?: Pod) {
  const before = k.execs.length;
  try {
    if (image === env.privateImage)
      return (await kubeletPull(k, env.daemon, image, env.tmpDir, pod)).code === 0;
    // No Docker Hub here: its credential (the engine's token) must log in to the test registry.
    const [cred] = await k.credentialsFor(image, pod);
    return cred ? env.registry.canLogin(cred.username, cred.password) : false;
  } finally {
    execs.push(...k.execs.slice(before));
  }
}

describe('node identity, as documented', () => {
  it('AppRole with a wrapped secret_id: the documented kubelet and provider configs pull from both registries', async () => {
    const etc = join(root, 'etc', 'vault-docker-login');
    await sh('kubelet-approle', etc);
    extraSecrets.push(readFileSync(join(etc, 'secret-id'), 'utf8').trim());
    installProviderConfig('kubelet-provider-node');
    const k = startKubelet(env, binDir, onThisNode(parse(block('kubelet-node'))));
    // The private image, as the docs' registry names it on this node.
    expect(onThisNode('registry.example.com/acme/private:1')).toBe(env.privateImage);
    expect(await pull(k, env.privateImage)).toBe(true);
    // Docker Hub's credential (the engine's token, which the test registry accepts in its place).
    expect(await pull(k, 'nginx')).toBe(true);
    expect(k.execs.map((e) => e.code)).toEqual([0, 0]);
  });
});

describe('workload identity, as documented', () => {
  const sa = () =>
    parse(block('kubelet-service-account')) as {
      metadata: { name: string; namespace: string; annotations: Record<string, string> };
    };
  const podOf = (s: ReturnType<typeof sa>['metadata'], name: string): Pod => ({
    namespace: s.namespace,
    name,
    serviceAccount: { namespace: s.namespace, name: s.name, annotations: s.annotations },
  });
  const privateImage = () => onThisNode('registry.example.com/acme/private:1');

  async function workloadKubelet() {
    installProviderConfig('kubelet-provider-workload');
    return startKubelet(env, binDir, onThisNode(parse(block('kubelet-workload'))));
  }

  it('OIDC discovery, the roles, the annotated service account: its role gets the private registry, the default role only Docker Hub', async () => {
    await sh('kubelet-jwt-discovery', env.tmpDir, { ISSUER: env.issuer.url });
    await sh('kubelet-jwt-roles', env.tmpDir);
    const k = await workloadKubelet();
    const app = sa().metadata;
    expect(await pull(k, privateImage(), podOf(app, 'app-1'))).toBe(true);
    expect(await pull(k, 'nginx', podOf(app, 'app-1'))).toBe(true);

    const other = { namespace: 'team-b', name: 'default', annotations: {} };
    expect(await pull(k, 'nginx', podOf(other, 'web-1'))).toBe(true);
    expect(await pull(k, privateImage(), podOf(other, 'web-1'))).toBe(false);
    expect(k.execs[k.execs.length - 1]?.stderr).toMatch(
      /Vault denied reading secret\/data\/registry\/example|403/,
    );
    // Naming team-a's role does not help: bound_subject refuses the login.
    const posing = { ...other, annotations: app.annotations };
    expect(await pull(k, privateImage(), podOf(posing, 'web-2'))).toBe(false);
    expect(k.execs[k.execs.length - 1]?.stderr).toMatch(
      /Vault login failed for role "team-a-pull"/,
    );
  });

  it("the public key instead of discovery (sa.pub, the API server's signing key)", async () => {
    writeFileSync(join(env.tmpDir, 'sa.pub'), await issuerPublicKeyPem(env.issuer.url));
    await sh('kubelet-jwt-pubkeys', env.tmpDir, { ISSUER: env.issuer.url });
    const config = await baoApi(env, 'GET', 'auth/kubernetes/config');
    expect((config.data as { oidc_discovery_url: string }).oidc_discovery_url).toBe('');
    const k = await workloadKubelet();
    expect(await pull(k, privateImage(), podOf(sa().metadata, 'app-2'))).toBe(true);
  });

  it("the README's example is a configuration the kubelet accepts", () => {
    const readme = readFileSync(join(dirname(DOC), '..', 'README.md'), 'utf8');
    const examples = [...readme.matchAll(/```yaml\n([\s\S]*?)\n```/g)]
      .map((m) => m[1] ?? '')
      .filter((b) => b.includes('kind: CredentialProviderConfig'));
    expect(examples).toHaveLength(1);
    const [provider] = parseKubeletConfig(examples[0] ?? '');
    expect(provider).toMatchObject({
      name: 'vault-credential-provider',
      tokenAttributes: {
        cacheType: 'ServiceAccount',
        serviceAccountTokenAudience: 'vault-docker-login',
      },
    });
  });

  it('one audience everywhere: the kubelet requests it, the nodes may, the roles bind it', async () => {
    const kubelet = parse(block('kubelet-workload')) as {
      providers: { tokenAttributes: { serviceAccountTokenAudience: string } }[];
    };
    const audience = kubelet.providers[0]?.tokenAttributes.serviceAccountTokenAudience;
    const [role] = parseAllDocuments(block('kubelet-rbac')).map((d) => d.toJS()) as {
      rules: { resources: string[]; verbs: string[] }[];
    }[];
    expect(role?.rules[0]).toEqual({
      apiGroups: [''],
      resources: [audience],
      verbs: ['request-serviceaccounts-token-audience'],
    });
    for (const name of ['image-pull', 'team-a-pull']) {
      const r = await baoApi(env, 'GET', `auth/kubernetes/role/${name}`);
      expect((r.data as { bound_audiences: string[] }).bound_audiences).toEqual([audience]);
    }
    expect(sa().metadata.annotations).toHaveProperty('vault-docker-login.io/role', 'team-a-pull');
  });
});
