import { doctor } from './doctor.js';
import { main } from './main.js';

/** The whole request: the kubelet writes it and closes stdin. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const out = (t: string) => process.stdout.write(t);
const argv = process.argv.slice(2);

// No top-level await: the bundles are CommonJS (see scripts/build.mjs). `doctor` is run by hand
// and reads no request.
void (
  argv[0] === 'doctor'
    ? doctor(argv.slice(1), process.env, out)
    : readStdin().then((stdin) =>
        main(argv, process.env, stdin, { out, err: (t) => process.stderr.write(t) }),
      )
).then((code) => {
  process.exitCode = code;
});
