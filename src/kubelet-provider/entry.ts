import { main } from './main.js';

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);

process.exitCode = await main(
  process.argv.slice(2),
  process.env,
  Buffer.concat(chunks).toString('utf8'),
  {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  },
);
