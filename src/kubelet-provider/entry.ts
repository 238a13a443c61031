import { doctor } from './doctor.js';
import { main } from './main.js';
import { infoText } from './usage.js';

/** The whole request: the kubelet writes it and closes stdin. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const out = (t: string) => process.stdout.write(t);
const argv = process.argv.slice(2);
const info = infoText(argv);

// No top-level await: the bundles are CommonJS (see scripts/build.mjs). --help, --version and
// `doctor` are run by hand and read no request.
if (info !== undefined) out(info);
else
  void (
    argv[0] === 'doctor'
      ? doctor(argv.slice(1), process.env, out)
      : readStdin().then((stdin) =>
          main(argv, process.env, stdin, { out, err: (t) => process.stderr.write(t) }),
        )
  ).then((code) => {
    process.exitCode = code;
  });
