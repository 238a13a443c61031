// Bundles every entry point with esbuild into dist/<entry>/ (committed; the suite checks it is
// fresh). Each folder holds its entry and what only it loads; what several entries load when
// needed (the YAML parser, the proxy transport) is in dist/shared/, once. A folder copied with
// dist/shared/ beside it works anywhere. Deterministic: no source maps, no absolute paths; every
// file <= 400 KB.
//
// Why esbuild, and CommonJS: a step's time is mostly Node starting and loading the bundle
// (docs/performance.md). An ES module's `import` of a node builtin builds the builtin's namespace
// by reading every export, which loads what the export getters hide (Node's own undici behind
// node:http, webcrypto behind node:crypto); CommonJS `require` does not. esbuild also drops unused
// ES module code and lets us replace modules no run needs with stubs.
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LIMIT = 400 * 1024;

/** dir -> source; `file` names the output when not index.js; `bin` adds a shebang and +x. */
export const ENTRIES = [
  { dir: 'main', source: 'src/action/entry/main.ts' },
  { dir: 'post', source: 'src/action/entry/post.ts' },
  // The Action's credential-helper mode runs the helper from here, on the step's own Node.
  {
    dir: 'main',
    source: 'src/credential-helper/entry.ts',
    file: 'docker-credential-vault.cjs',
    bin: true,
  },
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

/**
 * What entries load with `import()` only when needed: files of their own. Shared ones are in
 * dist/shared/ (one copy for every entry; the npm package holds each once), the others beside the
 * one entry that loads them. Specifier -> source.
 */
const LAZY = {
  // The YAML parser: only for `registries` and configuration files.
  yaml: { source: 'yaml', shared: true },
  // undici: only when HTTP(S)_PROXY applies (src/core/transport.ts).
  './transport-proxy.js': { source: 'src/core/transport-proxy.ts', shared: true },
  // The credential helper's Vault side: only when its cache cannot answer.
  './slow-path.js': { source: 'src/credential-helper/slow-path.ts', shared: false },
  // The credential helper's `doctor`: only when asked for.
  './doctor.js': { source: 'src/credential-helper/doctor.ts', shared: false },
};
const SHARED = 'shared';
/** The path a bundle requires a lazy file by: `./x.js` beside it, or `../shared/x.js`. */
const lazyFile = (specifier) => {
  const name = `${specifier.replace(/^\.\//, '').replace(/\.js$/, '')}.js`;
  return LAZY[specifier].shared ? `../${SHARED}/${name}` : `./${name}`;
};

// Required but never run on our paths: replaced so they are neither parsed nor loaded.
const STUBS = [
  // @actions/core's getIDToken client; src/identity/github.ts fetches the token itself.
  [/@actions\/http-client/, 'module.exports = {};'],
  // @actions/core's job summary, platform details and OIDC client, never called; summary reads
  // fs.promises at load (node:fs/promises and readline with it).
  [/@actions\/core\/lib\/(summary|platform|oidc-utils)\.js$/, 'module.exports = {};'],
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

const LAZY_CRYPTO = `const load = () => require('node:crypto');
setImmediate(load);
module.exports = { randomUUID: () => load().randomUUID() };`;

const plugins = [
  {
    name: 'stubs-and-lazy',
    setup(b) {
      b.onResolve({ filter: /./ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        if (args.kind === 'dynamic-import' && args.path in LAZY)
          return { path: lazyFile(args.path), external: true };
        // @actions/core needs node:crypto for one randomUUID per file command: load it then, or
        // on the first idle turn of the event loop, not at start.
        if (args.path === 'crypto' && /@actions\/core\//.test(args.importer))
          return { path: 'lazy-crypto', namespace: 'stub', pluginData: LAZY_CRYPTO };
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
  // import() becomes require() in a promise: no ES module loader, and no namespace of a builtin
  // built by reading all its exports.
  supported: { 'dynamic-import': false },
  // import.meta.url (the CLI finds its package.json by it) from the CommonJS module's own path.
  define: { 'import.meta.url': '__vdlModuleUrl' },
};
const MODULE_URL = 'var __vdlModuleUrl=require("node:url").pathToFileURL(__filename).href;';

/** One bundle's text, and the lazy files it refers to. */
async function bundle(source, banner) {
  const r = await build({
    ...COMMON,
    entryPoints: [source.startsWith('src/') ? join(root, source) : source],
    outfile: 'out.js',
    banner: { js: banner },
    plugins,
  });
  const text = r.outputFiles[0].text;
  const refs = Object.keys(LAZY)
    .map(lazyFile)
    .filter((f) => text.includes(`require("${f}")`));
  return { text, refs };
}

/** Whether `file` already holds `text` with `mode`. */
function sameFile(file, text, mode) {
  try {
    return (statSync(file).mode & 0o777) === mode && readFileSync(file, 'utf8') === text;
  } catch {
    return false;
  }
}

const lazy = new Map();
for (const [specifier, { source }] of Object.entries(LAZY))
  lazy.set(lazyFile(specifier), await bundle(source, MODULE_URL));

const files = new Map();
for (const { dir, source, file = 'index.js', bin } of ENTRIES) {
  const b = await bundle(source, `${bin ? '#!/usr/bin/env node\n' : ''}${MODULE_URL}`);
  files.set(join(dir, file), { text: b.text, bin });
  // What it loads lazily, and what those load in turn.
  const todo = [...b.refs];
  while (todo.length) {
    const f = todo.pop();
    // Every entry folder is a sibling of shared/, so `../shared/x.js` is `shared/x.js` here.
    const out = join(dir, f);
    if (files.has(out)) continue;
    files.set(out, { text: lazy.get(f).text });
    todo.push(...lazy.get(f).refs);
  }
}

// Each folder says CommonJS itself, so it works copied elsewhere.
const DIRS = new Set([...ENTRIES.map((e) => e.dir), SHARED]);
for (const dir of DIRS) files.set(join(dir, 'package.json'), { text: '{ "type": "commonjs" }\n' });

// Only what changed is written, and only what is gone is removed: a test run rebuilds dist/ (see
// test/harness/global-setup.ts) while another may be running the bundles.
const changed = [];
for (const dir of DIRS) {
  const at = join(root, 'dist', dir);
  mkdirSync(at, { recursive: true });
  for (const f of readdirSync(at)) {
    if (files.has(join(dir, f))) continue;
    rmSync(join(at, f), { recursive: true, force: true });
    changed.push(join('dist', dir, f));
  }
}
rmSync(join(root, 'dist', 'package.json'), { force: true });

let failed = false;
for (const [name, f] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
  const out = join(root, 'dist', name);
  const { text } = f;
  const mode = f.bin ? 0o755 : 0o644;
  if (!sameFile(out, text, mode)) {
    writeFileSync(out, text);
    chmodSync(out, mode);
    changed.push(relative(root, out));
  }
  if (name.endsWith('package.json')) continue;
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
console.log(changed.length ? `Changed: ${changed.sort().join(', ')}` : 'Changed: nothing');
if (failed) process.exit(1);
