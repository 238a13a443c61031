import { main } from './main.js';
import { infoText } from './usage.js';

/** The whole request: the kubelet writes it and closes stdin. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const info = infoText(process.argv.slice(2));
if (info !== undefined) process.stdout.write(info);
// No top-level await: the bundles are CommonJS (see scripts/build.mjs).
else
  void readStdin()
    .then((stdin) =>
      main(process.argv.slice(2), process.env, stdin, {
        out: (t) => process.stdout.write(t),
        err: (t) => process.stderr.write(t),
      }),
    )
    .then((code) => {
      process.exitCode = code;
    });
