// The sandbox: OIDC issuer, OpenBao (configured as the tests configure it), the Docker Hub engine
// stand-in, a real registry holding a private image and a Docker daemon of its own on 127.0.0.1,
// up until SIGINT or SIGTERM. Prints the export lines a shell needs (the JWTs in them are the test
// issuer's, valid for an hour), what to type, and a ready setup for each host entry point.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEnv } from '../test/harness/index.js';
import { hostSetups } from './sandbox-hosts.js';

const HOUR = 3600;
const started = Date.now();
const env = await startEnv({ daemon: true });
const fx = env.fixtures;
const docker = join(env.tmpDir, 'docker');
mkdirSync(docker, { mode: 0o700 });

const exports: Record<string, string> = {
  VAULT_ADDR: env.vaultAddr,
  // A throwaway docker config: your own ~/.docker is left alone.
  DOCKER_CONFIG: docker,
  VDL_REGISTRY: env.registry.host,
  VDL_ACCOUNT: fx.account,
  GITHUB_JWT: env.issuer.githubToken({ expiresIn: HOUR }),
  CIRCLECI_JWT: env.issuer.circleciToken({ v2: true, expiresIn: HOUR }),
  GITLAB_JWT: env.issuer.gitlabToken({ expiresIn: HOUR }),
  BUILDKITE_JWT: env.issuer.buildkiteToken({ expiresIn: HOUR }),
  VDL_ROOT_TOKEN: env.rootToken,
};
const lines = Object.entries(exports).map(([k, v]) => `export ${k}=${v}`);
const envFile = join(env.tmpDir, 'sandbox.env');
writeFileSync(envFile, `${lines.join('\n')}\n`, { mode: 0o600 });
const hosts = await hostSetups(env, env.tmpDir);

const roles = [
  [fx.githubMount, fx.github.role, 'GITHUB_JWT', `repository ${fx.github.repository}`],
  [fx.circleciMount, fx.circleci.role, 'CIRCLECI_JWT', `project ${fx.circleci.projectId}`],
  [fx.gitlabMount, fx.gitlab.role, 'GITLAB_JWT', `project_path ${fx.gitlab.projectPath}`],
  [fx.buildkiteMount, fx.buildkite.role, 'BUILDKITE_JWT', `pipeline ${fx.buildkite.pipeline}`],
];
console.log(
  [
    `Sandbox up in ${Date.now() - started} ms: OpenBao, the Docker Hub engine stand-in, a registry, a Docker daemon and an OIDC issuer on 127.0.0.1.`,
    `Paste these into another shell, or run: source ${envFile}`,
    '',
    ...lines,
    '',
    'JWT auth mounts and roles (every role binds the audience vault-docker-login; the JWTs last 60 min):',
    ...roles.map(
      ([mount, role, jwt, bound]) =>
        `  --auth-mount ${mount} --role ${role} --jwt-env ${jwt}    (${bound})`,
    ),
    `Docker Hub engine at ${fx.engineMount}/: account ${fx.account} (every scope), ${fx.accountNoAdmin} (no admin).`,
    `KV v2: ${fx.kvMount}/data/${fx.kvPath} holds a user and password the registry accepts.`,
    'Explore OpenBao with: VAULT_TOKEN=$VDL_ROOT_TOKEN bao read auth/gitlab/role/gl-build',
    '',
    'Try, from the checkout:',
    `  node dist/cli/index.js login --auth-mount ${fx.gitlabMount} --role ${fx.gitlab.role} --jwt-env GITLAB_JWT --account "$VDL_ACCOUNT" --registry "$VDL_REGISTRY"`,
    '  node dist/cli/index.js logout',
    '',
    ...hosts,
    '',
    'Ctrl-C stops everything.',
  ].join('\n'),
);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  // Leases nobody gave back (the kubelet provider's, a login without logout) are revoked, so
  // their registry credentials end with the sandbox.
  const alive = env.engine.liveLeases();
  for (const id of alive)
    await fetch(`${env.vaultAddr}/v1/sys/leases/revoke`, {
      method: 'PUT',
      headers: { 'X-Vault-Token': env.rootToken },
      body: JSON.stringify({ lease_id: id }),
    }).catch(() => undefined);
  await env.stop();
  const revoked = alive.length === 1 ? '1 lease' : `${alive.length} leases`;
  console.log(
    `\n${signal}: services stopped${alive.length ? ` (${revoked} still alive revoked first)` : ''}.`,
  );
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
setInterval(() => {}, 1 << 30);
