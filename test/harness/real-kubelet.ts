// The real kubelet (built by scripts/build/kubelet.sh) run standalone: no API server, static pods
// from a manifest directory, containerd over CRI, pods on the host network, and the
// vault-credential-provider as its image credential provider. Everything it writes stays in its
// directory; it listens on 127.0.0.1 only; it is started and stopped by pid.
//
// What it needs here (cgroup v1, no swap accounting, a shared machine):
// - failCgroupV1: false (1.35+ refuses cgroup v1 by default), cgroupDriver cgroupfs (containerd 1.6
//   does not answer the CRI RuntimeConfig call, so the kubelet uses its own setting);
// - cgroupsPerQOS: false and no enforceNodeAllocatable: no kubepods cgroup tree on the host;
// - its own mount namespace, where the six kernel settings it insists on (vm.overcommit_memory,
//   kernel.panic, kernel.panic_on_oops, ...) read as it wants them: else it writes them to the
//   shared machine's kernel (protectKernelDefaults: true would make it refuse to start instead).

import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort, processesWithEnv, type Spawned, startProcess, waitFor } from './procs.js';

/** Pinned in scripts/build/kubelet.sh. */
export const KUBERNETES_VERSION = '1.36.3';
/** Carried by the kubelet and inherited by the providers it runs. */
const KUBELET_ENV = 'VDL_HARNESS_KUBELET';

/** The kubelet's binary in the machine's cache, after checking nobody else could have put it there. */
export function kubeletBinary(): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const dir = join(cache, 'vault-docker-login', `kubelet-v${KUBERNETES_VERSION}`);
  const bin = join(dir, 'kubelet');
  if (!existsSync(bin))
    throw new Error(
      `The kubelet ${KUBERNETES_VERSION} is not built (${bin}): run bash scripts/install-deps.sh (or scripts/build/kubelet.sh).`,
    );
  const uid = process.getuid?.();
  for (const p of [join(cache, 'vault-docker-login'), dir, bin]) {
    const st = lstatSync(p);
    if (st.isSymbolicLink() || st.uid !== uid || (st.mode & 0o022) !== 0)
      throw new Error(
        `${p} is a symlink, not ours or writable by others: remove ${dir} and run scripts/build/kubelet.sh again.`,
      );
  }
  return bin;
}

/** The settings it insists on, as it wants them (pkg/kubelet/cm setupKernelTunables). */
const KERNEL_SETTINGS: Record<string, string> = {
  'vm/overcommit_memory': '1',
  'vm/panic_on_oom': '0',
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
  'kernel/keys/root_maxkeys': '1000000',
  'kernel/keys/root_maxbytes': '25000000',
};

export interface PodStatus {
  phase?: string;
  containerStatuses?: {
    name: string;
    image: string;
    imageID?: string;
    state: {
      running?: { startedAt: string };
      waiting?: { reason?: string; message?: string };
      terminated?: { reason?: string; exitCode: number };
    };
  }[];
}

export interface RealKubelet {
  /** The static pod name the kubelet gives `name` (suffixed with the node name). */
  podName(name: string): string;
  /** A static pod on the host network running `image` (a busybox one: `sleep`). */
  addPod(name: string, image: string): Promise<void>;
  /** The pod's status as the kubelet reports it (read-only port, /pods). */
  pod(name: string): Promise<PodStatus | undefined>;
  /** Polls pod(name) until `check` holds; returns what it saw, or throws with the kubelet's log. */
  waitPod(
    name: string,
    check: (s: PodStatus | undefined) => boolean,
    timeoutMs?: number,
  ): Promise<PodStatus | undefined>;
  /** How many times this kubelet process ran the provider (its own metric). */
  providerRuns(): Promise<number>;
  /** Provider processes running now (they carry the kubelet's marker in their environment). */
  providerProcesses(): [number, string][];
  /** Starts the kubelet process (again). */
  start(): Promise<void>;
  /**
   * Stops the kubelet process: SIGTERM, or as systemd's restart does (KillMode=control-group),
   * SIGTERM to it and every process it started.
   */
  kill(opts?: { children?: boolean }): Promise<void>;
  /** Everything every run of it printed. */
  logs(): string;
  /** Removes every pod (the kubelet stops them), then stops it. */
  stop(): Promise<void>;
}

export interface RealKubeletOptions {
  /** unix:// CRI endpoint. */
  runtimeEndpoint: string;
  /** --image-credential-provider-config */
  providerConfigFile: string;
  /** --image-credential-provider-bin-dir */
  providerBinDir: string;
}

const NODE = 'vdl-node';

export async function startRealKubelet(dir: string, o: RealKubeletOptions): Promise<RealKubelet> {
  const bin = kubeletBinary();
  const manifests = join(dir, 'manifests');
  await mkdir(manifests, { recursive: true, mode: 0o700 });
  const kernel = join(dir, 'kernel');
  await Promise.all(
    Object.entries(KERNEL_SETTINGS).map(async ([k, v]) => {
      await mkdir(join(kernel, k, '..'), { recursive: true });
      await writeFile(join(kernel, k), `${v}\n`);
    }),
  );
  const [port, readOnlyPort, healthzPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const configFile = join(dir, 'kubelet-config.yaml');
  await writeFile(
    configFile,
    stringify({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      staticPodPath: manifests,
      fileCheckFrequency: '1s',
      address: '127.0.0.1',
      port,
      readOnlyPort,
      healthzBindAddress: '127.0.0.1',
      healthzPort,
      authentication: { anonymous: { enabled: false }, webhook: { enabled: false } },
      authorization: { mode: 'AlwaysAllow' },
      containerRuntimeEndpoint: o.runtimeEndpoint,
      imageServiceEndpoint: o.runtimeEndpoint,
      podLogsDir: join(dir, 'pod-logs'),
      cgroupDriver: 'cgroupfs',
      cgroupsPerQOS: false,
      enforceNodeAllocatable: [],
      failSwapOn: false,
      failCgroupV1: false,
      localStorageCapacityIsolation: false,
      // No eviction for a shared machine's disk or memory use.
      evictionHard: { 'memory.available': '1Mi' },
    }),
  );
  const markValue = randomBytes(8).toString('hex');
  const mark = `${KUBELET_ENV}=${markValue}`;
  const masks = Object.keys(KERNEL_SETTINGS)
    .map((k) => `mount --bind "$1/${k}" /proc/sys/${k} &&`)
    .join(' ');
  const args = [
    '--config',
    configFile,
    '--root-dir',
    join(dir, 'root'),
    '--hostname-override',
    NODE,
    '--image-credential-provider-config',
    o.providerConfigFile,
    '--image-credential-provider-bin-dir',
    o.providerBinDir,
    '--v',
    '2',
  ];
  let proc: Spawned | undefined;
  const earlier: string[] = [];
  const logs = () => [...earlier, proc?.output() ?? ''].join('\n');
  const readOnly = `http://127.0.0.1:${readOnlyPort}`;

  const start = async () => {
    if (proc) earlier.push(proc.output());
    proc = startProcess(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        `${masks} shift && exec "$@"`,
        'sh',
        kernel,
        bin,
        ...args,
      ],
      { PATH: process.env.PATH, HOME: dir, [KUBELET_ENV]: markValue },
      { keepAllOutput: true },
    );
    await waitFor(
      `kubelet on 127.0.0.1:${healthzPort}`,
      async () => (await fetch(`http://127.0.0.1:${healthzPort}/healthz`)).ok,
      proc,
      60_000,
    );
  };

  const podName = (name: string) => `${name}-${NODE}`;
  const pod = async (name: string): Promise<PodStatus | undefined> => {
    const r = await fetch(`${readOnly}/pods`);
    const list = (await r.json()) as {
      items: { metadata: { name: string }; status?: PodStatus }[];
    };
    return list.items.find((p) => p.metadata.name === podName(name))?.status;
  };
  const children = () => processesWithEnv(mark).filter(([pid]) => pid !== proc?.child.pid);
  const kill = async (opts: { children?: boolean } = {}) => {
    const p = proc;
    if (!p) return;
    const signalled = opts.children ? children() : [];
    for (const [pid] of signalled)
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone already
      }
    await p.stop(10_000);
    for (let i = 0; i < 100 && signalled.length && children().length; i++)
      await new Promise((r) => setTimeout(r, 50));
  };

  const self: RealKubelet = {
    podName,
    async addPod(name, image) {
      const manifest = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default' },
        spec: {
          hostNetwork: true,
          terminationGracePeriodSeconds: 0,
          containers: [
            {
              name: 'app',
              image,
              imagePullPolicy: 'IfNotPresent',
              // Absolute: the image has no PATH, and CRI sets none (docker does).
              command: ['/bin/sleep', '3600'],
            },
          ],
        },
      };
      await writeFile(join(manifests, `${name}.yaml`), stringify(manifest));
    },
    pod,
    async waitPod(name, check, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let last: PodStatus | undefined;
      while (Date.now() < deadline) {
        last = await pod(name).catch(() => undefined);
        if (check(last)) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(
        `pod ${name}: not as expected after ${timeoutMs} ms; last status ${JSON.stringify(last)}\nkubelet log (end):\n${logs().slice(-6000)}`,
      );
    },
    async providerRuns() {
      const text = await (await fetch(`${readOnly}/metrics`)).text();
      const m = /^kubelet_credential_provider_plugin_duration_count\{[^}]*\} (\d+)$/m.exec(text);
      return m ? Number(m[1]) : 0;
    },
    providerProcesses: children,
    start,
    kill,
    logs,
    async stop() {
      if (proc && proc.child.exitCode === null) {
        for (const f of await readdir(manifests)) await rm(join(manifests, f), { force: true });
        try {
          await waitFor(
            'the kubelet to stop its pods',
            async () =>
              ((await (await fetch(`${readOnly}/pods`)).json()) as { items: unknown[] }).items
                .length === 0,
            proc,
            30_000,
          );
        } catch {
          // containerd's stop kills what is left
        }
      }
      await kill({ children: true });
    },
  };
  try {
    await start();
    return self;
  } catch (err) {
    await kill({ children: true });
    throw err;
  }
}
