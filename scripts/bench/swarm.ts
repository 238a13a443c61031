// The Swarm secrets driver's share of the benchmark: a GetSecret round trip on its socket for each
// kind of delivery, and a two-replica service converging on a real Swarm with a leased secret.
import { join } from 'node:path';
import {
  callPlugin,
  driverConfig,
  prepareDriverVault,
  revokeLiveLeases,
  startDriver,
} from '../../test/e2e/swarm-driver-run.js';
import { startSwarm } from '../../test/e2e/swarm-service.js';
import { startDaemon } from '../../test/harness/daemon.js';
import type { DockerDaemon, TestEnv } from '../../test/harness/types.js';

type Series = Record<string, number[]>;
const add = (s: Series, k: string, v: number) => {
  s[k] ??= [];
  s[k].push(v);
};

/** `n` GetSecret round trips per delivery kind; `swarmRuns` service convergences. */
export async function benchSwarmDriver(
  env: TestEnv,
  series: Series,
  n: number,
  swarmRuns: number,
): Promise<void> {
  const v = await prepareDriverVault(env, 'bench-swarm');
  const plugin = `vdl-bench-${process.pid}`;
  const socket = `/run/docker/plugins/${plugin}.sock`;
  const config = driverConfig(v.dir, 'driver', {
    vault: { url: env.vaultAddr },
    auth: { method: 'token_file', token_file: v.tokenFile },
    driver: { socket },
  });
  const driver = await startDriver(config, socket);
  let daemon: DockerDaemon | undefined;
  try {
    const engine = `${env.fixtures.engineMount}/token/${env.fixtures.account}/read`;
    const kinds: [string, Record<string, string>][] = [
      ['GetSecret: KV field', { 'vault.path': 'secret/data/swarm/app', 'vault.field': 'password' }],
      [
        'GetSecret: leased config.json',
        { 'vault.path': engine, 'vault.registry': env.registry.host },
      ],
      ['GetSecret: wrapped KV', { 'vault.path': 'secret/data/swarm/app', 'vault.wrap': '1m' }],
    ];
    for (const [name, labels] of kinds)
      for (let i = 0; i < n + 2; i++) {
        const t0 = performance.now();
        const r = await callPlugin(socket, '/SecretProvider.GetSecret', {
          SecretName: 'bench',
          SecretLabels: labels,
          TaskName: `bench.${i}.x`,
        });
        if (r.status !== 200) throw new Error(`${name}: ${r.body.Err}`);
        if (i >= 2) add(series, name, performance.now() - t0);
      }
    await revokeLiveLeases(env);
    if (swarmRuns > 0) {
      daemon = await startDaemon(join(env.tmpDir, 'bench-daemon'));
      const image = await daemon.pushPrivateImage(env.registry, env.registry.admin, 'bench/task');
      const swarm = await startSwarm(daemon, env.tmpDir, env.registry, image);
      const flags = [
        '--label',
        `vault.path=${engine}`,
        '--label',
        `vault.registry=${env.registry.host}`,
      ];
      await swarm.docker(['secret', 'create', '--driver', plugin, ...flags, 'bench']);
      for (let i = 0; i < swarmRuns; i++) {
        const t0 = performance.now();
        await swarm.createService(`bench-${i}`, 'bench', 'docker/config.json', 2);
        await swarm.converged(`bench-${i}`, 2);
        add(series, 'service with 2 replicas converged', performance.now() - t0);
        await swarm.docker(['service', 'rm', `bench-${i}`]);
      }
    }
  } finally {
    await daemon?.stop();
    await driver.stop();
    await revokeLiveLeases(env);
  }
}
