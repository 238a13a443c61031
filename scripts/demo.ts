// The whole Action flow on this machine: embedded OIDC issuer, OpenBao, Docker Hub engine stand-in,
// a real registry, a Docker daemon and the real docker CLI. First the default credential-helper
// mode (a job's pulls lease through its helper), then the single login. Prints a timeline with
// checks; prints no secret.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAction } from '../test/harness/github-runner.js';
import { startEnv } from '../test/harness/index.js';
import { findLeaks } from '../test/harness/leak.js';
import { demoHelperMode } from './demo-helper-mode.js';

const printed: string[] = [];
const say = (line: string) => {
  printed.push(line);
  console.log(line);
};
const row = (ok: boolean, step: string, ms: string, detail: string) =>
  say(`  ${ok ? '✔' : '✘'} ${step.padEnd(14)} ${(ms && `${ms} ms`).padStart(8)}   ${detail}`);

/** The step's own timing from its log line, which ends "(… N ms)." */
const stepMs = (out: string, marker: string) =>
  /(\d+) ms\)\.?$/.exec(out.split('\n').find((l) => l.includes(marker)) ?? '')?.[1] ?? '-';

const started = Date.now();
say('Starting OpenBao, registry, Docker daemon, OIDC issuer and Docker Hub stand-ins…');
const env = await startEnv({ daemon: true });
let failed = false;
try {
  say(`  services up in ${Date.now() - started} ms (registry ${env.registry.host})\n`);
  const inputs = {
    url: env.vaultAddr,
    'auth-mount': env.fixtures.githubMount,
    role: env.fixtures.github.role,
    audience: env.fixtures.audience,
    account: env.fixtures.account,
    scope: 'write',
    registry: env.registry.host,
  };
  const helper = await demoHelperMode(env, inputs, say, row);

  say('main step, login mode (credential-helper: false): one docker login for the job');
  const run = await runAction({
    env,
    inputs: { ...inputs, 'credential-helper': 'false' },
    post: false,
  });
  const out = run.main.stdout;
  const cfgFile = join(run.dockerConfig, 'config.json');
  const auth = () =>
    (JSON.parse(readFileSync(cfgFile, 'utf8')) as { auths?: Record<string, { auth?: string }> })
      .auths?.[env.registry.host]?.auth;
  const [user = '', secret = ''] = Buffer.from(auth() ?? '', 'base64')
    .toString()
    .split(':');
  const token = (JSON.parse(run.state.session ?? '{}') as { vaultToken?: string }).vaultToken ?? '';
  const lease = run.outputs['lease-id'] ?? '';
  const checks = {
    identity: out.includes('Identity token obtained'),
    login: await env.vaultTokenAlive(token),
    lease: env.engine.liveLeases().includes(lease),
    docker: run.main.exitCode === 0 && (await env.registry.canLogin(user, secret)),
  };
  row(
    checks.identity,
    'identity',
    stepMs(out, 'Identity token'),
    'GitHub OIDC token from the runner endpoint',
  );
  row(
    checks.login,
    'vault login',
    stepMs(out, 'Vault login'),
    `role ${inputs.role} on auth/${inputs['auth-mount']}; token alive in OpenBao`,
  );
  row(
    checks.lease,
    'lease',
    stepMs(out, 'Credential for'),
    `${lease.replace(/[^/]+$/, '…')} ${run.outputs['lease-duration']} s; live at the engine`,
  );
  row(
    checks.docker,
    'docker login',
    stepMs(out, 'docker login'),
    `${user}@${env.registry.host}; the registry accepts the credential`,
  );

  say('\npost step (dist/post/index.js)');
  const post = await run.runPost();
  const after = {
    logout: post.exitCode === 0 && auth() === undefined,
    lease: !env.engine.liveLeases().includes(lease) && !(await env.registry.canLogin(user, secret)),
    token: !(await env.vaultTokenAlive(token)),
  };
  row(after.logout, 'docker logout', '', 'config.json no longer holds the login');
  row(after.lease, 'lease revoked', '', 'gone at the engine; the registry refuses the token');
  row(after.token, 'token revoked', '', 'OpenBao lookup-self refuses the Vault token');
  say(`  post step: ${post.ms} ms in all, process start included`);
  failed = !helper.ok || ![...Object.values(checks), ...Object.values(after)].every(Boolean);

  const secrets = [...env.secrets(), ...helper.secrets];
  const leaks = findLeaks(`${helper.printed}\n${run.everything}\n${printed.join('\n')}`, secrets, {
    allowAddMask: true,
  });
  say(
    `\nleak scan: ${secrets.length} secrets, ${leaks.length} found in any output${leaks.length ? `:\n${leaks.join('\n')}` : ''}`,
  );
  failed ||= leaks.length > 0;
} finally {
  await env.stop();
}
say(
  `\n${failed ? '✘ demo failed' : '✔ demo passed'} in ${Date.now() - started} ms; services stopped.`,
);
process.exit(failed ? 1 : 0);
