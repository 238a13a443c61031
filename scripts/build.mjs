// Bundles the Action's main and post steps, the CLI, the credential helper and the Swarm driver with ncc into dist/ (committed; CI checks it is fresh).
// Deterministic: no source maps, no timestamps, no absolute paths; each file must stay <= 400 KB.
// Dynamic imports (the YAML parser, loaded only for `registries`; the credential helper's Vault
// side, loaded only when its cache cannot answer) become chunk files next to
// their entry point.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ncc from '@vercel/ncc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LIMIT = 400 * 1024;

// @actions/core imports @actions/http-client (and with it undici 6, ~450 KB) only for
// getIDToken, which we do not call: src/identity/github.ts fetches the token with our own
// undici client. Mapping the package to an inert builtin keeps it out; nothing reads from it.
const externals = {
  '@actions/http-client': 'node:http',
  '@actions/http-client/lib/auth.js': 'node:http',
  '../web/fetch/body.js': 'node:http',
  '../llhttp/llhttp_simd-wasm.js': 'node:http',
};

// dir -> source; `file` names the output when it is not index.js, `bin` adds a shebang and the
// executable bit (the package's bins: the CLI, the credential helper, the Swarm driver).
const ENTRIES = [
  { dir: 'main', source: join('src', 'action', 'entry', 'main.ts') },
  { dir: 'post', source: join('src', 'action', 'entry', 'post.ts') },
  { dir: 'cli', source: join('src', 'cli', 'entry.ts'), bin: true },
  // CommonJS: Node starts a CommonJS main several ms sooner than an ES module, and a cached
  // `get` is little more than a process start.
  {
    dir: 'credential-helper',
    file: 'index.cjs',
    source: join('src', 'credential-helper', 'entry.ts'),
    bin: true,
    esm: false,
  },
  // Imported by the helper's entry only when its cache cannot answer. A bundle of its own, not an
  // ncc chunk: ncc leaves chunks unminified (this one would be 630 KB).
  {
    dir: 'credential-helper',
    file: 'slow-path.js',
    source: join('src', 'credential-helper', 'slow-path.ts'),
  },
  { dir: 'swarm-driver', source: join('src', 'swarm-driver', 'entry.ts'), bin: true },
];

for (const dir of new Set(ENTRIES.map((e) => e.dir)))
  rmSync(join(root, 'dist', dir), { recursive: true, force: true });

let failed = false;
for (const { dir: step, source, file = 'index.js', bin, esm } of ENTRIES) {
  const entry = join(root, source);
  const { code, assets } = await ncc(entry, {
    ...(esm === undefined ? {} : { esm }),
    minify: true,
    quiet: true,
    sourceMap: false,
    externals,
    target: 'es2022',
  });
  const dir = join(root, 'dist', step);
  mkdirSync(dir, { recursive: true });
  const files = { [file]: (bin ? '#!/usr/bin/env node\n' : '') + code };
  for (const [name, asset] of Object.entries(assets ?? {})) {
    // ncc adds a package.json of its own; dist/package.json below covers every bundle.
    if (name !== 'package.json') files[name] = String(asset.source);
  }
  for (const [name, text] of Object.entries(files)) {
    const out = join(dir, name);
    writeFileSync(out, text, { mode: name === file && bin ? 0o755 : 0o644 });
    const kb = (Buffer.byteLength(text) / 1024).toFixed(1);
    console.log(`${relative(root, out)}: ${kb} KB`);
    if (Buffer.byteLength(text) > LIMIT) {
      console.error(`${relative(root, out)} is over the 400 KB budget.`);
      failed = true;
    }
    if (text.includes(root)) {
      console.error(`${relative(root, out)} contains an absolute path of this machine.`);
      failed = true;
    }
  }
}
// The bundles are ES modules whatever the surrounding package says. The credential helper's folder
// gets its own copy: it is installed by copying that folder alone (docs/credential-helper.md).
writeFileSync(join(root, 'dist', 'package.json'), '{ "type": "module" }\n');
writeFileSync(join(root, 'dist', 'credential-helper', 'package.json'), '{ "type": "module" }\n');
if (failed) process.exit(1);
