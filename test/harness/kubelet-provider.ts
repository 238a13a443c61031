// The vault-credential-provider as a node has it: the bundle linked into the kubelet's
// --image-credential-provider-bin-dir, its configuration file, and the kubelet configuration that
// runs it; plus what the tests check afterwards (what it printed, what it left alive).
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { createTransport } from '../../src/core/transport.js';
import { VaultClient } from '../../src/core/vault.js';
import { Kubelet, type KubeletOptions } from './kubelet.js';
import { KUBE_AUDIENCE } from './kubernetes-auth.js';
import { run } from './procs.js';
import type { TestEnv } from './types.js';

export const PROVIDER = 'vault-credential-provider';
export const BUNDLE = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'dist',
  'kubelet-provider',
  'index.js',
);

/** A bin dir holding the provider under the name the kubelet config gives it. */
export function installProvider(dir: string): string {
  const bin = join(dir, 'kubelet-bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(BUNDLE, join(bin, PROVIDER));
  return bin;
}

let files = 0;
/** Writes the provider's configuration file (YAML) and returns its path. */
export function writeProviderConfig(dir: string, doc: unknown): string {
  const path = join(dir, `provider-${++files}.yml`);
  writeFileSync(path, stringify(doc), { mode: 0o600 });
  return path;
}

export interface ProviderEntryOptions {
  configFile: string;
  matchImages: string[];
  /** With tokenAttributes: the pod's service account token reaches the provider. */
  serviceAccount?: {
    cacheType?: 'Token' | 'ServiceAccount';
    requireServiceAccount?: boolean;
    required?: string[];
    optional?: string[];
  };
  env?: Record<string, string>;
  defaultCacheDuration?: string;
}

/** A CredentialProviderConfig running the provider with `--config <file>`. */
export function kubeletConfig(o: ProviderEntryOptions): Record<string, unknown> {
  const sa = o.serviceAccount;
  return {
    apiVersion: 'kubelet.config.k8s.io/v1',
    kind: 'CredentialProviderConfig',
    providers: [
      {
        name: PROVIDER,
        matchImages: o.matchImages,
        defaultCacheDuration: o.defaultCacheDuration ?? '1m',
        apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
        args: ['--config', o.configFile],
        ...(o.env && { env: Object.entries(o.env).map(([name, value]) => ({ name, value })) }),
        ...(sa && {
          tokenAttributes: {
            serviceAccountTokenAudience: KUBE_AUDIENCE,
            cacheType: sa.cacheType ?? 'ServiceAccount',
            requireServiceAccount: sa.requireServiceAccount ?? true,
            ...(sa.required && { requiredServiceAccountAnnotationKeys: sa.required }),
            ...(sa.optional && { optionalServiceAccountAnnotationKeys: sa.optional }),
          },
        }),
      },
    ],
  };
}

/** A kubelet whose TokenRequest API is the test issuer, with a bare environment of its own. */
export function startKubelet(
  env: TestEnv,
  binDir: string,
  config: unknown,
  more: Partial<KubeletOptions> = {},
): Kubelet {
  return new Kubelet({
    config,
    binDir,
    env: { PATH: process.env.PATH, HOME: env.tmpDir },
    requestToken: (pod, audience) =>
      env.issuer.kubernetesToken({
        namespace: pod.namespace,
        serviceAccount: pod.serviceAccount.name,
        audience,
        pod: pod.name,
      }),
    ...more,
  });
}

/**
 * What the provider printed, for the leak scan: stderr whole, stdout with the registry passwords
 * taken out of `auth` (handing them to the kubelet there is the provider's job; anywhere else, or
 * anything else secret, is a leak).
 */
export function printedByProvider(execs: { stdout: string; stderr: string }[]): string {
  return execs
    .map((e) => {
      let out = e.stdout;
      try {
        const doc = JSON.parse(e.stdout) as { auth?: Record<string, { password?: string }> };
        for (const a of Object.values(doc.auth ?? {})) a.password = '(handed to the kubelet)';
        out = JSON.stringify(doc);
      } catch {
        // not JSON: scanned as it is
      }
      return `${out}\n${e.stderr}`;
    })
    .join('\n');
}

/** The provider never revokes what it leased (the kubelet caches it): the test does, as root. */
export async function revokeLeases(env: TestEnv): Promise<void> {
  const vault = new VaultClient({
    url: env.vaultAddr,
    transport: createTransport(),
    retries: 1,
    deadline: Date.now() + 20_000,
  });
  for (const id of env.engine.liveLeases()) await vault.revokeLease(id, env.rootToken);
}

/** Runs the provider by hand, as `echo <request> | vault-credential-provider --config FILE`. */
export function runProvider(
  env: TestEnv,
  configFile: string,
  request: Record<string, unknown> | string,
  extraEnv: Record<string, string> = {},
): ReturnType<typeof run> {
  const input =
    typeof request === 'string'
      ? request
      : JSON.stringify({
          apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
          kind: 'CredentialProviderRequest',
          ...request,
        });
  return run(process.execPath, [BUNDLE, '--config', configFile], {
    input,
    env: { PATH: process.env.PATH, HOME: env.tmpDir, ...extraEnv },
  });
}
