// A second local user for attack tests: uid 65534 through util-linux `setpriv`, and a sticky
// world-writable directory standing in for /tmp. The suite runs as root (the host entry points
// run as root on the hosts they serve), so the attacker is a real other uid.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const OTHER_UID = 65534;

/** `setpriv` prefix that runs a command as the other user, with no supplementary groups. */
const SETPRIV = ['--reuid', String(OTHER_UID), '--regid', String(OTHER_UID), '--clear-groups'];

/** Fails the suite with how to install it when setpriv is missing or the suite is not root. */
export function requireOtherUser(): void {
  if (process.getuid?.() !== 0)
    throw new Error('The attack tests run as root (they need a second uid through setpriv).');
  const r = spawnSync('setpriv', [...SETPRIV, 'true']);
  if (r.error || r.status !== 0)
    throw new Error(
      `setpriv cannot switch to uid ${OTHER_UID} (${r.error?.message ?? r.stderr}). Install util-linux (apt-get install util-linux).`,
    );
}

/**
 * A shared temporary directory like /tmp: 1777, under `parent` (whose path the other user must be
 * able to walk, so it is opened to 0711).
 */
export function stickyDir(parent: string, name = 'shared-tmp'): string {
  chmodSync(parent, 0o711);
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o1777);
  return dir;
}

/** Runs a shell script as the other user; throws with its stderr when it fails. */
export function asOtherUser(script: string, env: Record<string, string> = {}): string {
  const r = spawnSync('setpriv', [...SETPRIV, 'sh', '-euc', script], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0)
    throw new Error(`as uid ${OTHER_UID}: ${script}\nexit ${r.status}: ${r.stderr}`);
  return r.stdout;
}
