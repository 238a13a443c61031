// docker login/logout through an injected exec. The secret is written to stdin, never to argv.

import { VdlError } from './errors.js';
import type { Exec } from './exec.js';
import { DOCKER_HUB } from './registry-name.js';
import { type Naming, naming } from './setting-names.js';

/** Docker Hub is the CLI's default server; naming it would key config.json differently. */
function server(registry: string): string[] {
  return registry === DOCKER_HUB ? [] : [registry];
}

/** The registry's /v2/ never answered: nothing was said about the credential. */
const UNREACHABLE =
  /dial tcp|no such host|connection refused|connection reset|i\/o timeout|network is unreachable|TLS handshake timeout|Client\.Timeout|context deadline exceeded|HTTP response to HTTPS client/;

/**
 * docker's own account of a failed login, each line once: it logs every endpoint it tried at
 * level=info and then prints the last error again.
 */
function dockerSays(out: string): string {
  const lines = out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^time="[^"]*" level=(info|debug)/.test(l));
  return [...new Set(lines)].join('\n');
}

export async function dockerLogin(
  exec: Exec,
  registry: string,
  username: string,
  secret: string,
  /** Names the registry setting in the entry point's words. */
  name: Naming = naming(),
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
    const said = dockerSays(`${res.stderr}\n${res.stdout}`);
    if (UNREACHABLE.test(said))
      throw new VdlError(
        'docker',
        `Could not reach the registry ${registry} to log in as "${username}": ${said}`,
        `Check ${name('registry')} (host[:port]) and that this machine reaches it: DNS, proxy, firewall, and http or https as the registry serves.`,
      );
    throw new VdlError(
      'docker',
      `The registry ${registry} refused the login for "${username}": ${said}`,
      `Check that ${name('registry')} names the registry this credential is for, and that the account may log in there.`,
    );
  }
}

export async function dockerLogout(exec: Exec, registry: string): Promise<void> {
  const res = await exec('docker', ['logout', ...server(registry)]);
  if (res.code !== 0)
    throw new VdlError('docker', `docker logout ${registry} failed: ${res.stderr.trim()}`);
}
