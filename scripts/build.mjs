// Bundles every entry point with esbuild into dist/<entry>/ (committed; the suite checks it is
// fresh). Each folder holds everything its entry loads, so it can be copied alone. Deterministic:
// no source maps, no absolute paths; every file <= 400 KB.
//
// Why esbuild, and CommonJS: a step's time is mostly Node starting and loading the bundle
// (docs/performance.md). An ES module's `import` of a node builtin builds the builtin's namespace
// by reading every export, which loads what the export getters hide (Node's own undici behind
// node:http, webcrypto behind node:crypto); CommonJS `require` does not. esbuild also drops unused
// ES module code and lets us replace modules no run needs with stubs.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LIMIT = 400 * 1024;

/** dir -> source; `file` names the output when not index.js; `bin` adds a shebang and +x. */
export const ENTRIES = [
  { dir: 'main', source: 'src/action/entry/main.ts' },
  { dir: 'post', source: 'src/action/entry/post.ts' },
  { dir: 'cli', source: 'src/cli/entry.ts', bin: true },
  // index.cjs: the name says CommonJS even where the folder is copied without its package.json.
  {
    dir: 'credential-helper',
    source: 'src/credential-helper/entry.ts',
    file: 'index.cjs',
    bin: true,
  },
  // Imported by the helper's entry only when its cache cannot answer.
  { dir: 'credential-helper', source: 'src/credential-helper/slow-path.ts', file: 'slow-path.js' },
  { dir: 'swarm-driver', source: 'src/swarm-driver/entry.ts', bin: true },
  { dir: 'kubelet-provider', source: 'src/kubelet-provider/entry.ts', bin: true },
];

/** Modules imported with `import()` that stay files of their own, loaded only when needed. */
const LAZY = new Set(['./slow-path.js']);

// Required but never run on our paths: replaced so they are neither parsed nor loaded.
const STUBS = [
  // @actions/core's getIDToken client; src/identity/github.ts fetches the token itself.
  [/@actions\/http-client/, 'module.exports = {};'],
  // undici's parser in its SIMD build: the plain build is the fallback undici then takes.
  [
    /undici\/lib\/llhttp\/llhttp_simd-wasm\.js$/,
    'throw new Error("llhttp SIMD build not bundled");',
  ],
  // Bodies we send are strings; extractBody serves FormData and web streams only.
  [/undici\/lib\/web\/fetch\/body\.js$/, 'module.exports = {};'],
  // HTTP/2 is never negotiated (undici's allowH2 is off), so node:http2 need not load.
  [
    /undici\/lib\/dispatcher\/client-h2\.js$/,
    'module.exports = function connectH2() { throw new Error("HTTP/2 is not bundled"); };',
  ],
];

const plugins = [
  {
    name: 'stubs-and-lazy',
    setup(b) {
      b.onResolve({ filter: /./ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        // The YAML parser (only for `registries` and config files): yaml.js beside the entry.
        if (args.path === 'yaml' && args.kind === 'dynamic-import')
          return { path: './yaml.js', external: true };
        if (LAZY.has(args.path) && args.kind === 'dynamic-import')
          return { path: args.path, external: true };
        const full = args.path.startsWith('.') ? join(args.resolveDir, args.path) : args.path;
        const hit = STUBS.find(([re]) => re.test(full));
        return hit ? { path: full, namespace: 'stub', pluginData: hit[1] } : undefined;
      });
      b.onLoad({ filter: /./, namespace: 'stub' }, (args) => ({
        contents: args.pluginData,
        loader: 'js',
      }));
    },
  },
];

const COMMON = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  write: false,
  // import.meta.url (the CLI finds its package.json by it) from the CommonJS module's own path.
  define: { 'import.meta.url': '__vdlModuleUrl' },
};
const MODULE_URL = 'var __vdlModuleUrl=require("node:url").pathToFileURL(__filename).href;';

const files = new Map();
for (const { dir, source, file = 'index.js', bin } of ENTRIES) {
  const r = await build({
    ...COMMON,
    entryPoints: [join(root, source)],
    outfile: join(root, 'dist', dir, file),
    banner: { js: `${bin ? '#!/usr/bin/env node\n' : ''}${MODULE_URL}` },
    plugins,
  });
  const text = r.outputFiles[0].text;
  files.set(join(dir, file), { text, bin });
  if (text.includes('import("./yaml.js")')) files.set(join(dir, 'yaml.js'), { yaml: true });
}
const yaml = (await build({ ...COMMON, entryPoints: ['yaml'], outfile: 'yaml.js' })).outputFiles[0]
  .text;

for (const dir of new Set(ENTRIES.map((e) => e.dir))) {
  rmSync(join(root, 'dist', dir), { recursive: true, force: true });
  mkdirSync(join(root, 'dist', dir), { recursive: true });
  // Each folder says CommonJS itself, so it works copied alone.
  writeFileSync(join(root, 'dist', dir, 'package.json'), '{ "type": "commonjs" }\n');
}
rmSync(join(root, 'dist', 'package.json'), { force: true });

let failed = false;
for (const [name, f] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
  const out = join(root, 'dist', name);
  const text = f.yaml ? yaml : f.text;
  writeFileSync(out, text);
  if (f.bin) chmodSync(out, 0o755);
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
if (failed) process.exit(1);
