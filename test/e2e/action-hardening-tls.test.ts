// The Action against a Vault served over HTTPS by a CA the test made, requiring a client
// certificate (mTLS): CA and client pair from VAULT_* files or inputs (PEM and base64),
// refusals that say what to set, skip-verify only with a loud warning, HTTPS through a proxy.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEnv } from '../harness/index.js';
import { expectNoLeaks, pemBodyLines } from '../harness/leak.js';
import { type ForwardProxy, startProxy } from '../harness/proxy.js';
import type { TestEnv } from '../harness/types.js';
import { actionJob, baseInputs } from './action-hardening-job.js';
import { expectNothingAlive } from './expect-clean.js';

let env: TestEnv;
let tls: NonNullable<TestEnv['tls']>;
let proxy: ForwardProxy;
let certPem: string;
let keyPem: string;
beforeAll(async () => {
  env = await startEnv({ tls: { clientCerts: true } });
  if (!env.tls) throw new Error('startEnv({ tls }) gave no env.tls');
  tls = env.tls;
  certPem = readFileSync(tls.clientCertFile, 'utf8');
  keyPem = readFileSync(tls.clientKeyFile, 'utf8');
  proxy = await startProxy(join(env.tmpDir, 'proxy'));
});
afterAll(async () => {
  await proxy?.stop();
  await env?.stop();
});
afterEach(() => {
  env.engine.faults.clear();
  expectNothingAlive(env);
});

const b64 = (text: string) => Buffer.from(text).toString('base64');
const keyLines = () => pemBodyLines(keyPem);
const fileEnv = () => ({
  VAULT_CACERT: tls.caFile,
  VAULT_CLIENT_CERT: tls.clientCertFile,
  VAULT_CLIENT_KEY: tls.clientKeyFile,
});

async function succeeds(inputs: Record<string, string>, extraEnv: Record<string, string> = {}) {
  const job = await actionJob(env, {
    inputs: baseInputs(env, inputs),
    extraEnv,
    extraSecrets: keyLines(),
  });
  expect(job.run.main.exitCode, job.run.main.output).toBe(0);
  expect(job.run.post?.exitCode, job.run.post?.output).toBe(0);
  expect(job.run.post?.output).toContain('Vault token revoked');
  return job;
}

describe('action over TLS with mTLS', () => {
  it('is served over https only', () => {
    expect(env.vaultAddr).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('trusts VAULT_CACERT and presents VAULT_CLIENT_CERT / VAULT_CLIENT_KEY', async () => {
    const job = await succeeds({}, fileEnv());
    expect(job.warnings()).toEqual([]);
  });

  it('takes ca-certificate, client-certificate and client-key as PEM inputs', async () => {
    const job = await succeeds({
      'ca-certificate': tls.caPem,
      'client-certificate': certPem,
      'client-key': keyPem,
    });
    expect(job.warnings()).toEqual([]);
  });

  it('takes them as base64 inputs', async () => {
    await succeeds({
      'ca-certificate': b64(tls.caPem),
      'client-certificate': b64(certPem),
      'client-key': b64(keyPem),
    });
  });

  it('the ca-certificate input wins over a wrong VAULT_CACERT', async () => {
    await succeeds(
      { 'ca-certificate': tls.caPem },
      { ...fileEnv(), VAULT_CACERT: tls.clientCertFile },
    );
  });

  it('refuses an untrusted server with a message naming ca-certificate', async () => {
    const job = await actionJob(env, {
      // retries stays at its default: an untrusted certificate is final, never retried.
      inputs: baseInputs(env, { 'client-certificate': certPem, 'client-key': keyPem }),
      extraSecrets: keyLines(),
    });
    expect(job.run.main.exitCode).toBe(1);
    expect(job.error).toMatch(
      /^Cannot reach https:\/\/127\.0\.0\.1:\d+\/v1\/auth\/github\/login: /,
    );
    expect(job.error).toMatch(/certificate/i);
    expect(job.error).toMatch(
      /The certificate of 127\.0\.0\.1:\d+ is not trusted: set the ca-certificate input/,
    );
    expect(job.error).toContain('or VAULT_CACERT');
    expect(job.run.main.output).not.toContain('Retrying');
  });

  it('refuses a missing client certificate with a message naming client-certificate', async () => {
    const job = await actionJob(env, {
      inputs: baseInputs(env, { 'ca-certificate': tls.caPem, retries: '0' }),
    });
    expect(job.run.main.exitCode).toBe(1);
    expect(job.error).toMatch(
      /^Cannot reach https:\/\/127\.0\.0\.1:\d+\/v1\/auth\/github\/login: /,
    );
    expect(job.error).toContain(
      'If Vault requires a client certificate (mTLS), set the client-certificate input and the client-key input',
    );
    expect(job.error).toContain('VAULT_CLIENT_CERT and VAULT_CLIENT_KEY');
  });

  it('a missing VAULT_CACERT file is a config error naming the variable', async () => {
    const job = await actionJob(env, {
      inputs: baseInputs(env),
      extraEnv: { ...fileEnv(), VAULT_CACERT: join(env.tmpDir, 'no-such-ca.pem') },
    });
    expect(job.run.main.exitCode).toBe(1);
    expect(job.error).toContain('Cannot read VAULT_CACERT file');
  });

  it.each<[string, Record<string, string>, Record<string, string>]>([
    ['tls-skip-verify input', { 'tls-skip-verify': 'true' }, {}],
    ['VAULT_SKIP_VERIFY', {}, { VAULT_SKIP_VERIFY: 'true' }],
  ])('%s works, only with a loud warning', async (_n, inputs, extraEnv) => {
    const job = await succeeds(
      { 'client-certificate': certPem, 'client-key': keyPem, ...inputs },
      extraEnv,
    );
    const warnings = job.warnings();
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings[0]).toContain('the Vault server certificate is NOT verified');
    expect(warnings[0]).toContain('Use the ca-certificate input instead');
  });

  it('sends the https Vault calls through HTTPS_PROXY (CONNECT), the http issuer direct', async () => {
    const before = proxy.requests().length;
    await succeeds({}, { ...fileEnv(), HTTPS_PROXY: proxy.url });
    const vault = `CONNECT ${new URL(env.vaultAddr).host}`;
    const carried = proxy.requests().slice(before);
    expect(carried.length).toBeGreaterThanOrEqual(2);
    expect(carried.filter((r) => r !== vault)).toEqual([]);
    expectNoLeaks(proxy.log(), [...env.secrets(), ...keyLines()]);
  });
});
