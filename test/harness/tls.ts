// A throwaway CA made with openssl: a server certificate for 127.0.0.1 and a client certificate.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './procs.js';

export interface TestTls {
  caPem: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

const ext = (e: string) =>
  `[req]\ndistinguished_name = dn\nx509_extensions = ext\nprompt = no\n[dn]\n[ext]\n${e}\n`;

async function openssl(dir: string, args: string[]): Promise<void> {
  const r = await run('openssl', args, { env: { PATH: process.env.PATH, HOME: dir } });
  if (r.code !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

/** `openssl req -x509` with an EC key and only the extensions given (signed by the CA if any). */
async function cert(dir: string, name: string, cn: string, extensions: string, ca?: string) {
  const conf = join(dir, `${name}.cnf`);
  await writeFile(conf, ext(extensions));
  const signer = ca ? ['-CA', join(dir, `${ca}.pem`), '-CAkey', join(dir, `${ca}.key`)] : [];
  await openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${cn}`,
    '-config',
    conf,
    '-keyout',
    join(dir, `${name}.key`),
    '-out',
    join(dir, `${name}.pem`),
    ...signer,
  ]);
}

const CA = 'basicConstraints = critical, CA:TRUE\nkeyUsage = keyCertSign';
const LEAF = 'basicConstraints = critical, CA:FALSE\nkeyUsage = digitalSignature';

/** A CA of its own and one server certificate for the DNS names `hosts`. */
export async function makeHostTls(
  dir: string,
  hosts: string[],
): Promise<{ caFile: string; certFile: string; keyFile: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await cert(dir, 'ca', 'vdl-test-hosts-ca', CA);
  const san = hosts.map((h) => `DNS:${h}`).join(', ');
  await cert(
    dir,
    'hosts',
    hosts[0] ?? 'localhost',
    `${LEAF}\nextendedKeyUsage = serverAuth\nsubjectAltName = ${san}`,
    'ca',
  );
  return {
    caFile: join(dir, 'ca.pem'),
    certFile: join(dir, 'hosts.pem'),
    keyFile: join(dir, 'hosts.key'),
  };
}

export async function makeTls(dir: string): Promise<TestTls> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await cert(dir, 'ca', 'vdl-test-ca', CA);
  await Promise.all([
    cert(
      dir,
      'server',
      '127.0.0.1',
      `${LEAF}\nextendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1`,
      'ca',
    ),
    cert(dir, 'client', 'vdl-test-client', `${LEAF}\nextendedKeyUsage = clientAuth`, 'ca'),
  ]);
  return {
    caPem: await readFile(join(dir, 'ca.pem'), 'utf8'),
    caFile: join(dir, 'ca.pem'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server.key'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
  };
}
