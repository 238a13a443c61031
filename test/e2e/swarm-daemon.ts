// A real Docker daemon as a one-node Swarm manager, for the Swarm driver's tests: its own socket,
// data and exec roots, no network setup, `--debug` so the manager's log shows what a secrets
// driver answered. Temporary: the shared harness's daemon (test/harness/daemon.ts) replaces it.
import { copyFileSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, run, startProcess, waitFor } from '../harness/procs.js';

type Result = Awaited<ReturnType<typeof run>>;

export interface SwarmDaemon {
  /** `unix://...`, for DOCKER_HOST. */
  host: string;
  /** The busybox image every task runs. */
  image: string;
  /** The docker CLI against this daemon; `input` goes to stdin. */
  docker(args: string[], opts?: { input?: string; config?: string }): Promise<Result>;
  /** A detached service of `replicas` busybox tasks that sleep, given `secret` at `target`. */
  createService(name: string, secret: string, target: string, replicas?: number): Promise<void>;
  /** Waits until `replicas` tasks of `service` run; their ids. */
  converged(service: string, replicas: number): Promise<string[]>;
  /** The daemon's whole log so far. */
  log(): string;
  stop(): Promise<void>;
}

const BUSYBOX = '/usr/bin/busybox';

export async function startSwarmDaemon(dir: string): Promise<SwarmDaemon> {
  mkdirSync(dir, { recursive: true });
  const sock = join(dir, 'docker.sock');
  const host = `unix://${sock}`;
  const cli = join(dir, 'cli');
  mkdirSync(cli, { recursive: true });
  const proc = startProcess(
    'dockerd',
    [
      '--host',
      host,
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'docker.pid'),
      '--iptables=false',
      '--bridge=none',
      '--storage-driver=vfs',
      '--debug',
    ],
    { PATH: process.env.PATH },
  );
  let log = '';
  proc.child.stderr?.on('data', (b: Buffer) => {
    log += b;
  });
  proc.child.stdout?.on('data', (b: Buffer) => {
    log += b;
  });
  const docker = (args: string[], opts: { input?: string; config?: string } = {}) =>
    run('docker', args, {
      input: opts.input,
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        DOCKER_HOST: host,
        DOCKER_CONFIG: opts.config ?? cli,
      },
    });
  const stop = async () => {
    if (proc.child.exitCode === null) {
      const services = (await docker(['service', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
      if (services.length) await docker(['service', 'rm', ...services]);
      await waitFor(
        'the tasks to stop',
        async () => (await docker(['ps', '-q'])).stdout.trim() === '',
        undefined,
        30_000,
      ).catch(() => {});
      await docker(['swarm', 'leave', '--force']);
      const exited = new Promise((r) => proc.child.once('exit', r));
      proc.child.kill('SIGTERM');
      const timer = setTimeout(() => proc.child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      `dockerd on ${sock}`,
      async () => (await docker(['version', '--format', '{{.Server.Version}}'])).code === 0,
      proc,
      30_000,
    );
    const [listen, dataPath] = [await freePort(), await freePort()];
    const init = await docker([
      'swarm',
      'init',
      '--advertise-addr',
      '127.0.0.1',
      '--listen-addr',
      `127.0.0.1:${listen}`,
      '--data-path-port',
      String(dataPath),
    ]);
    if (init.code !== 0) throw new Error(`docker swarm init: ${init.stderr}`);
    // An image with no network: busybox-static and the few commands the tasks run.
    const rootfs = join(dir, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    copyFileSync(BUSYBOX, join(rootfs, 'bin', 'busybox'));
    for (const c of ['sh', 'cat', 'sleep']) symlinkSync('busybox', join(rootfs, 'bin', c));
    const tar = await run('tar', ['-C', rootfs, '-cf', join(dir, 'rootfs.tar'), '.']);
    if (tar.code !== 0) throw new Error(`tar: ${tar.stderr}`);
    const image = 'local/busybox:1';
    const imp = await docker(['import', join(dir, 'rootfs.tar'), image]);
    if (imp.code !== 0) throw new Error(`docker import: ${imp.stderr}`);
    const createService = async (name: string, secret: string, target: string, replicas = 1) => {
      const r = await docker([
        'service',
        'create',
        '--detach',
        '--quiet',
        '--name',
        name,
        '--replicas',
        String(replicas),
        '--stop-grace-period',
        '1s',
        '--secret',
        `source=${secret},target=${target}`,
        image,
        'sleep',
        '3600',
      ]);
      if (r.code !== 0) throw new Error(`docker service create ${name}: ${r.stderr}`);
    };
    const converged = async (service: string, replicas: number) => {
      let ids: string[] = [];
      await waitFor(
        `${replicas} running task(s) of ${service}`,
        async () => {
          const r = await docker([
            'service',
            'ps',
            service,
            '--filter',
            'desired-state=running',
            '--format',
            '{{.ID}} {{.CurrentState}}',
          ]);
          ids = r.stdout
            .split('\n')
            .filter((l) => / Running /.test(l))
            .map((l) => l.split(' ')[0] ?? '');
          return ids.length === replicas;
        },
        undefined,
        60_000,
      );
      return ids;
    };
    return { host, image, docker, createService, converged, log: () => log, stop };
  } catch (err) {
    await stop().catch(() => {});
    throw new Error(`${(err as Error).message}\nDaemon log:\n${log.slice(-3000)}`);
  }
}
