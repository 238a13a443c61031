// The demo's first part: the Action's default, credential-helper mode. Main logs in to Vault and
// writes the job's directory; a later step's `docker pull` leases through the job's credential
// helper; post revokes every lease and token of the job and removes the directory.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runAction } from '../test/harness/github-runner.js';
import type { DaemonEnv } from '../test/harness/index.js';
import { JobWitness } from '../test/harness/job-witness.js';

export type Row = (ok: boolean, step: string, ms: string, detail: string) => void;

export async function demoHelperMode(
  env: DaemonEnv,
  inputs: Record<string, string>,
  say: (line: string) => void,
  row: Row,
) {
  say('main step, credential-helper mode (the default)');
  const leasesBefore = env.engine.liveLeases().length;
  const job = await runAction({ env, inputs, post: false });
  const step = { ...job.stepEnv, ...env.daemon.env(job.stepEnv.DOCKER_CONFIG) };
  const jobDir = dirname(step.DOCKER_CONFIG ?? '');
  const w = new JobWitness(jobDir);
  const jobLeases = () => env.engine.liveLeases().length - leasesBefore;
  const mainOk = job.main.exitCode === 0 && existsSync(join(jobDir, 'token')) && jobLeases() === 1;
  row(
    mainOk,
    'job directory',
    String(job.main.ms),
    `DOCKER_CONFIG for later steps sends ${inputs.registry} to docker-credential-vault; 1 lease, checked at once`,
  );

  say('\nlater steps of the job (docker run by the job, as in a workflow)');
  const t0 = Date.now();
  const first = await w.step('docker', ['pull', env.privateImage], step);
  const firstMs = String(Date.now() - t0);

  const t1 = Date.now();
  const again = await w.step('docker', ['pull', env.privateImage], step);
  const againMs = String(Date.now() - t1);
  const creds = [...w.creds.values()];
  const leased = jobLeases();
  row(
    first.code === 0 && leased === 1,
    'docker pull',
    firstMs,
    `${env.privateImage} with the helper's credential; still 1 lease`,
  );
  row(
    again.code === 0 && jobLeases() === 1,
    'docker pull',
    againMs,
    "again: served from the job helper's cache, no new lease",
  );

  say('\npost step');
  const post = await job.runPost();
  let refused = creds.length > 0;
  for (const c of creds) refused &&= !(await env.registry.canLogin(c.username, c.secret));
  const after = {
    leases: post.exitCode === 0 && jobLeases() === 0 && refused,
    token: !(await Promise.all([...w.tokens].map((t) => env.vaultTokenAlive(t)))).some(Boolean),
    dir: !existsSync(jobDir),
  };
  row(
    after.leases,
    'leases revoked',
    '',
    "every lease the job's helper made; the registry refuses them",
  );
  row(after.token, 'token revoked', '', 'OpenBao refuses every Vault token of the job');
  row(after.dir, 'directory gone', '', 'the job directory, its cache and token file are removed');
  say(`  post step: ${post.ms} ms in all, process start included\n`);
  return {
    ok: mainOk && first.code === 0 && again.code === 0 && Object.values(after).every(Boolean),
    printed: `${job.everything}\n${w.printed}`,
    secrets: w.secrets(),
  };
}
