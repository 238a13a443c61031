// Bundles the Action's main and post steps, the CLI and the kubelet provider with ncc into dist/ (committed; CI checks it is fresh).
// Deterministic: no source maps, no timestamps, no absolute paths; each file must stay <= 400 KB.
// Dynamic imports (the YAML parser, loaded only for `registries`) become chunk files next to
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

const ENTRIES = {
  main: join('src', 'action', 'entry', 'main.ts'),
  post: join('src', 'action', 'entry', 'post.ts'),
  cli: join('src', 'cli', 'entry.ts'),
  'kubelet-provider': join('src', 'kubelet-provider', 'entry.ts'),
};
// The CLI and the kubelet's credential provider are the package's `bin`s: a shebang and the
// executable bit.
const SHEBANG = { cli: '#!/usr/bin/env node\n', 'kubelet-provider': '#!/usr/bin/env node\n' };

let failed = false;
for (const [step, source] of Object.entries(ENTRIES)) {
  const entry = join(root, source);
  const { code, assets } = await ncc(entry, {
    minify: true,
    quiet: true,
    sourceMap: false,
    externals,
    target: 'es2022',
  });
  const dir = join(root, 'dist', step);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = { 'index.js': (SHEBANG[step] ?? '') + code };
  for (const [name, asset] of Object.entries(assets ?? {})) {
    // ncc adds a package.json of its own; dist/package.json below covers every bundle.
    if (name !== 'package.json') files[name] = String(asset.source);
  }
  for (const [name, text] of Object.entries(files)) {
    const out = join(dir, name);
    writeFileSync(out, text, { mode: name === 'index.js' && SHEBANG[step] ? 0o755 : 0o644 });
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
// The bundles are ES modules whatever the surrounding package says.
writeFileSync(join(root, 'dist', 'package.json'), '{ "type": "module" }\n');
if (failed) process.exit(1);
