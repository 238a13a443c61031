// Bundles every entry point with esbuild into dist/ (committed; the suite checks it is fresh).
// esbuild over ncc: it tree-shakes the ES modules, lets us replace modules no run needs with
// stubs, and keeps the bundles small; load time is most of what each step costs (see
// docs/performance.md). Deterministic: no source maps, no absolute paths; each file <= 400 KB.
// A dynamic import (the YAML parser, loaded only for `registries`) becomes a chunk next to its
// entry point.
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LIMIT = 400 * 1024;

// Modules that are required but never run on our paths, replaced so they are neither parsed nor
// loaded: each is a cost on every start.
const STUBS = [
  // @actions/core's getIDToken client; src/identity/github.ts fetches the token itself.
  [/^@actions\/http-client(\/.*)?$/, 'module.exports = {};'],
  // undici's parser in its SIMD build: the plain build below it is the fallback undici takes.
  [/llhttp_simd-wasm\.js$/, 'throw new Error("llhttp SIMD build not bundled");'],
  // Bodies we send are strings; extractBody serves FormData and web streams only.
  [/web\/fetch\/body\.js$/, 'module.exports = {};'],
  // HTTP/2 is never negotiated (undici's allowH2 is off), so node:http2 need not load.
  [
    /dispatcher\/client-h2\.js$/,
    'module.exports = function connectH2 () { throw new Error("HTTP/2 is not bundled"); };',
  ],
];

const stubs = {
  name: 'stubs',
  setup(b) {
    b.onResolve({ filter: /./ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const full = args.path.startsWith('.') ? join(args.resolveDir, args.path) : args.path;
      const hit = STUBS.find(([re]) => re.test(full));
      if (!hit) return undefined;
      return { path: args.path, namespace: 'stub', pluginData: hit[1] };
    });
    b.onLoad({ filter: /./, namespace: 'stub' }, (args) => ({
      contents: args.pluginData,
      loader: 'js',
    }));
  },
};

// The YAML parser is needed only with `registries`: one file all entry points require lazily.
const lazyYaml = {
  name: 'lazy-yaml',
  setup(b) {
    b.onResolve({ filter: /^yaml$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: '../shared/yaml.js', external: true } : undefined,
    );
  },
};

export const ENTRIES = {
  main: 'src/action/entry/main.ts',
  post: 'src/action/entry/post.ts',
  cli: 'src/cli/entry.ts',
};
// Bins of the npm package: a shebang and the executable bit.
const BINS = new Set(['cli']);

// CommonJS, not ES modules: an ES module's `import` of a node builtin builds its namespace by
// reading every export, which loads what the export getters hide (webcrypto, Node's own undici
// behind node:http): about 40 ms on every start.
const COMMON = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
};

let failed = false;
rmSync(join(root, 'dist', 'shared'), { recursive: true, force: true });
await build({
  ...COMMON,
  entryPoints: { yaml: 'yaml' },
  outdir: join(root, 'dist', 'shared'),
});
const dirs = ['shared'];
for (const [name, entry] of Object.entries(ENTRIES)) {
  const dir = join(root, 'dist', name);
  dirs.push(name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await build({
    ...COMMON,
    entryPoints: { index: join(root, entry) },
    outdir: dir,
    banner: BINS.has(name) ? { js: '#!/usr/bin/env node' } : {},
    plugins: [stubs, lazyYaml],
  });
  if (BINS.has(name)) chmodSync(join(dir, 'index.js'), 0o755);
}
for (const name of dirs) {
  const dir = join(root, 'dist', name);
  for (const f of readdirSync(dir)) {
    const out = join(dir, f);
    const text = readFileSync(out, 'utf8');
    const size = Buffer.byteLength(text);
    console.log(`${relative(root, out)}: ${(size / 1024).toFixed(1)} KB`);
    if (size > LIMIT) {
      console.error(`${relative(root, out)} is over the 400 KB budget.`);
      failed = true;
    }
    if (text.includes(root)) {
      console.error(`${relative(root, out)} contains an absolute path of this machine.`);
      failed = true;
    }
  }
}
// The bundles are CommonJS whatever the surrounding package says.
writeFileSync(join(root, 'dist', 'package.json'), '{ "type": "commonjs" }\n');
if (failed) process.exit(1);
