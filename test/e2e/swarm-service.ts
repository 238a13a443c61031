// Swarm on the harness's daemon for the secrets driver's tests and benchmark: init, a local image
// for the tasks, services that sleep with one secret, and waiting for them to converge.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { writeDockerConfig } from '../harness/daemon.js';
import { waitFor } from '../harness/procs.js';
import type { CommandResult, DockerDaemon, Registry } from '../harness/types.js';

export interface Swarm {
  /** The image every task runs, present on the daemon. */
  image: string;
  /** The docker CLI with a config directory of its own (no credentials); `input` on stdin. */
  docker(args: string[], input?: string): Promise<CommandResult>;
  /** A detached service of `replicas` tasks that sleep, given `secret` at /run/secrets/`target`. */
  createService(name: string, secret: string, target: string, replicas?: number): Promise<void>;
  /** Waits until `replicas` tasks of `service` run; their ids. */
  converged(service: string, replicas: number): Promise<string[]>;
}

/**
 * `docker swarm init`, then the private image pulled with the registry's admin credential and
 * tagged with a local name, so the tasks need no credential to start.
 */
export async function startSwarm(
  daemon: DockerDaemon,
  dir: string,
  registry: Registry,
  privateImage: string,
): Promise<Swarm> {
  await daemon.initSwarm();
  const cli = mkdtempSync(join(dir, 'swarm-cli-'));
  const docker = (args: string[], input?: string) =>
    daemon.docker(args, { dockerConfig: cli, input });
  const admin = await writeDockerConfig(mkdtempSync(join(dir, 'swarm-admin-')), {
    [registry.host]: registry.admin,
  });
  const image = 'local/swarm-task:1';
  const pulled = await daemon.pull(privateImage, admin);
  if (pulled.code !== 0) throw new Error(`pulling ${privateImage}: ${pulled.stderr}`);
  const tagged = await docker(['tag', privateImage, image]);
  if (tagged.code !== 0) throw new Error(`docker tag: ${tagged.stderr}`);
  return {
    image,
    docker,
    async createService(name, secret, target, replicas = 1) {
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
    },
    async converged(service, replicas) {
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
    },
  };
}
