// A real Docker daemon (dockerd from Debian's docker.io) for one test file: its own socket, data
// root and exec root, optionally a TLS TCP listener as CircleCI's remote Docker gives a job, and a
// private image made without network. Stopped by pid, with its containerd and shims.
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { freePort, processesWithEnv, run, type Spawned, startProcess, waitFor } from './procs.js';
import { makeTls } from './tls.js';
import type { CommandResult, DaemonOptions, DockerDaemon, DockerVia } from './types.js';

/** Carried by dockerd and inherited by its containerd and shims: finds them all at stop. */
const DAEMON_ENV = 'VDL_HARNESS_DOCKERD';
/** busybox applets the image links (busybox itself must be statically linked). */
const APPLETS = ['sh', 'cat', 'echo', 'env', 'ls', 'sleep', 'true'];

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('error', () => resolve(false));
    req.end();
  });
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

/**
 * A docker config directory whose config.json holds these credentials (`auths`, base64
 * `user:secret`, mode 0600), as `docker login` writes it; skopeo reads the same file (--authfile).
 */
export async function writeDockerConfig(
  dir: string,
  auths: Record<string, { username: string; secret: string }>,
): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const entries = Object.entries(auths).map(([host, c]) => [
    host,
    { auth: Buffer.from(`${c.username}:${c.secret}`).toString('base64') },
  ]);
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({ auths: Object.fromEntries(entries) }),
    { mode: 0o600 },
  );
  return dir;
}

const failed = (what: string, r: CommandResult) =>
  new Error(`${what} failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);

export async function startDaemon(dir: string, opts: DaemonOptions = {}): Promise<DockerDaemon> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'The Docker daemon tests start dockerd, which needs root: run the suite as root ' +
        '(e.g. sudo -E env "PATH=$PATH" ./scripts/test.sh).',
    );
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const socket = join(dir, 'docker.sock');
  const markValue = randomBytes(8).toString('hex');
  const mark = `${DAEMON_ENV}=${markValue}`;
  const args = [
    '--host',
    `unix://${socket}`,
    '--data-root',
    join(dir, 'data'),
    '--exec-root',
    join(dir, 'exec'),
    '--pidfile',
    join(dir, 'docker.pid'),
    // Its own (empty) config, never /etc/docker/daemon.json; no iptables, bridge or sysctl changes.
    '--config-file',
    join(dir, 'daemon.json'),
    '--iptables=false',
    '--ip-forward=false',
    '--bridge=none',
    '--storage-driver=vfs',
  ];
  if (opts.debug) args.push('--debug');
  let tcp: DockerDaemon['tcp'];
  if (opts.tcp) {
    // TLS, as CircleCI's remote Docker (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH); plain TCP would also
    // make dockerd 20.10 sleep a second at start with a warning.
    const [tls, port] = await Promise.all([makeTls(join(dir, 'tls')), freePort()]);
    const certPath = join(dir, 'client-certs');
    await mkdir(certPath, { mode: 0o700 });
    await Promise.all([
      copyFile(tls.caFile, join(certPath, 'ca.pem')),
      copyFile(tls.clientCertFile, join(certPath, 'cert.pem')),
      copyFile(tls.clientKeyFile, join(certPath, 'key.pem')),
    ]);
    tcp = { host: `tcp://127.0.0.1:${port}`, certPath };
    args.push('--host', tcp.host, '--tlsverify', '--tlscacert', tls.caFile);
    args.push('--tlscert', tls.serverCertFile, '--tlskey', tls.serverKeyFile);
  }
  await writeFile(join(dir, 'daemon.json'), '{}\n');
  // In a mount namespace of its own, so no mount of dockerd's, containerd's or a container's
  // outlives them, even after a SIGKILL; unshare execs dockerd, keeping the pid.
  const proc: Spawned = startProcess(
    'unshare',
    ['--mount', '--propagation', 'private', '--', 'dockerd', ...args],
    { PATH: process.env.PATH, HOME: dir, [DAEMON_ENV]: markValue },
    { keepAllOutput: true },
  );

  let swarm = false;
  const env = (dockerConfig?: string, via: DockerVia = 'unix'): Record<string, string> => {
    const config: Record<string, string> = dockerConfig ? { DOCKER_CONFIG: dockerConfig } : {};
    if (via === 'unix') return { DOCKER_HOST: `unix://${socket}`, ...config };
    if (!tcp) throw new Error('this daemon has no TCP listener: startDaemon(dir, { tcp: true })');
    return {
      DOCKER_HOST: tcp.host,
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: tcp.certPath,
      ...config,
    };
  };
  const docker: DockerDaemon['docker'] = (cmdArgs, o) =>
    run('docker', cmdArgs, {
      input: o.input,
      env: { PATH: process.env.PATH, HOME: dir, ...env(o.dockerConfig, o.via) },
    });
  /** A throwaway docker config for the harness's own calls. */
  const scratch = async <T>(fn: (cfg: string) => Promise<T>): Promise<T> => {
    const cfg = await mkdtemp(join(dir, 'cli-'));
    try {
      return await fn(cfg);
    } finally {
      await rm(cfg, { recursive: true, force: true });
    }
  };
  const must = async (cmdArgs: string[], cfg: string, input?: string) => {
    const r = await docker(cmdArgs, { dockerConfig: cfg, input });
    if (r.code !== 0) throw failed(`docker ${cmdArgs[0]}`, r);
  };

  let rootfs: Promise<string> | undefined;
  /** A busybox root filesystem: the static binary and its applets, nothing from the network. */
  const busyboxRootfs = async () => {
    const root = join(dir, 'rootfs');
    await mkdir(join(root, 'bin'), { recursive: true });
    const which = await run('sh', ['-c', 'command -v busybox']);
    if (which.code !== 0) throw new Error('busybox is not on PATH: apt-get install busybox-static');
    await copyFile(realpathSync(which.stdout.trim()), join(root, 'bin', 'busybox'));
    await Promise.all(APPLETS.map((a) => symlink('busybox', join(root, 'bin', a))));
    return root;
  };

  const stop = async () => {
    if (swarm) await scratch((cfg) => docker(['swarm', 'leave', '--force'], { dockerConfig: cfg }));
    // dockerd stops its containers and containerd, then waits for containerd in 1 s steps.
    await proc.stop(20_000);
    await killLeftovers(mark);
  };

  try {
    await waitFor(`dockerd on ${socket}`, () => ping(socket), proc);
    return {
      host: `unix://${socket}`,
      ...(tcp && { tcp }),
      env,
      docker,
      pull: (image, dockerConfig, via) => docker(['pull', image], { dockerConfig, via }),
      async pushPrivateImage(registry, creds, repository = 'acme/private', cmd = ['sh']) {
        const ref = `${registry.host}/${repository}:1`;
        rootfs ??= busyboxRootfs();
        const root = await rootfs;
        await scratch(async (cfg) => {
          const pipe = `tar -C "$1" -c . | docker import --change "CMD $3" - "$2"`;
          const imported = await run('sh', ['-c', pipe, 'sh', root, ref, JSON.stringify(cmd)], {
            env: { PATH: process.env.PATH, HOME: dir, ...env(cfg) },
          });
          if (imported.code !== 0) throw failed('docker import', imported);
          const login = ['login', '--username', creds.username, '--password-stdin', registry.host];
          await must(login, cfg, creds.secret);
          await must(['push', ref], cfg);
          await must(['rmi', ref], cfg);
        });
        return ref;
      },
      async initSwarm() {
        const [listen, dataPath] = await Promise.all([freePort(), freePort()]);
        const init = ['swarm', 'init', '--advertise-addr', '127.0.0.1'];
        init.push('--listen-addr', `127.0.0.1:${listen}`, '--data-path-port', String(dataPath));
        await scratch((cfg) => must(init, cfg));
        swarm = true;
      },
      processes: () => processesWithEnv(mark),
      logs: () => proc.output(),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
