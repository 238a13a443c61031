// docker login/logout through an injected exec. The secret is written to stdin, never to argv.

import { VdlError } from './errors.js';
import type { Exec } from './exec.js';
import { DOCKER_HUB } from './registry-name.js';

/** Docker Hub is the CLI's default server; naming it would key config.json differently. */
function server(registry: string): string[] {
  return registry === DOCKER_HUB ? [] : [registry];
}

export async function dockerLogin(
  exec: Exec,
  registry: string,
  username: string,
  secret: string,
): Promise<void> {
  let res: Awaited<ReturnType<Exec>>;
  try {
    res = await exec(
      'docker',
      ['login', '--username', username, '--password-stdin', ...server(registry)],
      {
        input: secret,
      },
    );
  } catch (err) {
    throw new VdlError(
      'docker',
      `Cannot run docker: ${(err as Error).message}`,
      'Install the docker CLI on the runner.',
    );
  }
  if (res.code !== 0) {
    throw new VdlError(
      'docker',
      `The registry ${registry} refused the login for "${username}": ${res.stderr.trim() || res.stdout.trim()}`,
      'Check that the registry input names the registry this credential is for, and that the account may log in there.',
    );
  }
}

export async function dockerLogout(exec: Exec, registry: string): Promise<void> {
  const res = await exec('docker', ['logout', ...server(registry)]);
  if (res.code !== 0)
    throw new VdlError('docker', `docker logout ${registry} failed: ${res.stderr.trim()}`);
}
