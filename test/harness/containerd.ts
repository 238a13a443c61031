// containerd from Debian (containerd 1.6) serving CRI to the real kubelet: its own socket, root,
// state, runc root and config, never a system one, in a mount namespace of its own so no mount
// outlives it. Its sandbox (pause) image comes from the harness registry, pulled with a credential
// allowed only that repository, so it cannot pull a pod's private image by itself. Stopped by pid,
// with every task and shim it started.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processesWithEnv, run, type Spawned, startProcess, waitFor } from './procs.js';
import type { CommandResult } from './types.js';

/** Carried by containerd and inherited by its shims: finds them all at stop. */
const CONTAINERD_ENV = 'VDL_HARNESS_CONTAINERD';
/** The CRI plugin's namespace. */
const NAMESPACE = 'k8s.io';

export interface Containerd {
  /** unix:// endpoint for --container-runtime-endpoint. */
  endpoint: string;
  /** `ctr` against this containerd's CRI namespace. */
  ctr(args: string[]): Promise<CommandResult>;
  /** Names of the images it holds (CRI namespace). */
  images(): Promise<string[]>;
  logs(): string;
  stop(): Promise<void>;
}

export interface ContainerdOptions {
  sandboxImage: string;
  /** host:port of the registry, plain HTTP. */
  registryHost: string;
  /** Pull-only, for the sandbox image's repository. */
  sandboxCreds: { username: string; secret: string };
}

const toml = (s: string) => JSON.stringify(s);

function config(dir: string, o: ContainerdOptions): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return [
    'version = 2',
    `root = ${toml(join(dir, 'root'))}`,
    `state = ${toml(join(dir, 'state'))}`,
    // Snapshotters needing kernel features or tools we do not use. (The v1 runtime must stay:
    // 1.6's tasks service, and so CRI, will not load without it.)
    'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",',
    '  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]',
    '[grpc]',
    `  address = ${toml(join(dir, 'containerd.sock'))}`,
    '[debug]',
    '  address = ""',
    '[metrics]',
    '  address = ""',
    // Else /opt/containerd.
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${toml(join(dir, 'opt'))}`,
    `[${cri}]`,
    `  sandbox_image = ${toml(o.sandboxImage)}`,
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    '  disable_apparmor = true',
    // No CAP_SYS_RESOURCE here: a pause container's oom_score_adj -998 makes runc fail with
    // "can't get final child's PID from pipe: EOF". Keep it no lower than containerd's own.
    '  restrict_oom_score_adj = true',
    `[${cri}.containerd]`,
    // vfs-like: works on any filesystem (overlay on overlay does not).
    '  snapshotter = "native"',
    '  default_runtime_name = "runc"',
    `[${cri}.containerd.runtimes.runc]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `[${cri}.containerd.runtimes.runc.options]`,
    '  SystemdCgroup = false',
    `  Root = ${toml(join(dir, 'runc'))}`,
    // No CNI: the pods run on the host network.
    `[${cri}.cni]`,
    `  bin_dir = ${toml(join(dir, 'cni-bin'))}`,
    `  conf_dir = ${toml(join(dir, 'cni-conf'))}`,
    `[${cri}.registry.mirrors.${toml(o.registryHost)}]`,
    `  endpoint = [${toml(`http://${o.registryHost}`)}]`,
    `[${cri}.registry.configs.${toml(o.registryHost)}.auth]`,
    `  username = ${toml(o.sandboxCreds.username)}`,
    `  password = ${toml(o.sandboxCreds.secret)}`,
    '',
  ].join('\n');
}

/** Kills every process still carrying `entry`, and waits until none is left. */
async function killLeftovers(entry: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const left = processesWithEnv(entry);
    if (left.length === 0) return;
    for (const [pid] of left) {
      try {
        process.kill(pid, i === 0 ? 'SIGTERM' : 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `processes of ${entry} would not die: ${JSON.stringify(processesWithEnv(entry))}`,
  );
}

export async function startContainerd(dir: string, o: ContainerdOptions): Promise<Containerd> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const configFile = join(dir, 'config.toml');
  await writeFile(configFile, config(dir, o), { mode: 0o600 });
  const socket = join(dir, 'containerd.sock');
  const markValue = randomBytes(8).toString('hex');
  const mark = `${CONTAINERD_ENV}=${markValue}`;
  const proc: Spawned = startProcess(
    'unshare',
    ['--mount', '--propagation', 'private', '--', 'containerd', '--config', configFile],
    { PATH: process.env.PATH, HOME: dir, [CONTAINERD_ENV]: markValue },
    { keepAllOutput: true },
  );
  const ctr = (args: string[]) =>
    run('ctr', ['--address', socket, '--namespace', NAMESPACE, ...args], {
      env: { PATH: process.env.PATH, HOME: dir },
    });
  const lines = (r: CommandResult) =>
    r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);

  const stop = async () => {
    // Tasks first (the kubelet may have left some): their processes do not carry our mark.
    if (proc.child.exitCode === null) {
      for (const id of lines(await ctr(['tasks', 'ls', '-q']))) {
        await ctr(['tasks', 'kill', '--all', '--signal', 'SIGKILL', id]);
      }
      for (let i = 0; i < 50 && lines(await ctr(['tasks', 'ls', '-q'])).length; i++) {
        for (const id of lines(await ctr(['tasks', 'ls', '-q'])))
          await ctr(['tasks', 'rm', '-f', id]);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await proc.stop(10_000);
    await killLeftovers(mark);
  };

  try {
    await waitFor(
      `containerd on ${socket}`,
      async () => (await ctr(['version'])).code === 0,
      proc,
      30_000,
    );
    return {
      endpoint: `unix://${socket}`,
      ctr,
      images: async () => lines(await ctr(['images', 'ls', '-q'])),
      logs: () => proc.output(),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
