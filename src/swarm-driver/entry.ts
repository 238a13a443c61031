import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2), process.env, {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
});
