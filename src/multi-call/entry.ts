// The single executable's entry (Node's single executable applications): one binary for the four
// bins, so a host carries Node once (about 108 MB) instead of four times. It acts as the bin it is
// called as, through a link (busybox style); under any other name its first argument names the
// bin: `vault-docker-login-multi vault-swarm-secrets --config FILE`.
import { basename } from 'node:path';

/** Each bin's entry runs its main when loaded, reading process.argv from index 2 on. */
const BINS: Record<string, () => Promise<unknown>> = {
  'vault-docker-login': () => import('../cli/entry.js'),
  'docker-credential-vault': () => import('../credential-helper/entry.js'),
  'vault-credential-provider': () => import('../kubelet-provider/entry.js'),
  'vault-swarm-secrets': () => import('../swarm-driver/entry.js'),
};

const USAGE = `Usage: <bin> [arguments], through a link named as the bin, or
       ${basename(process.argv0)} <bin> [arguments]

One executable for the bins of vault-docker-login: ${Object.keys(BINS).join(', ')}.
Run "<bin> --help" for each one's usage.
`;

const called = basename(process.argv0);
const named = process.argv[2] ?? '';
const load = BINS[called] ?? BINS[named];
if (!load) {
  process.stderr.write(USAGE);
  process.exitCode = 2;
} else {
  // The bin's name given as the first argument is not one of its arguments.
  if (!BINS[called]) process.argv.splice(2, 1);
  void load();
}
