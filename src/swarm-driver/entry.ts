import { main } from './main.js';

// No top-level await: the bundles are CommonJS (see scripts/build.mjs).
void main(process.argv.slice(2), process.env, {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
}).then((code) => {
  process.exitCode = code;
});
