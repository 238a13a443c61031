// Self-test: the engine stand-in over HTTPS with the harness CA, and with client certificates.
import { readFileSync } from 'node:fs';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnv, type TestEnv } from '../harness/index.js';
import { run } from '../harness/procs.js';

let tls: TestEnv;
let mtls: TestEnv;
beforeAll(async () => {
  [tls, mtls] = await Promise.all([
    startEnv({ tls: {} }),
    startEnv({ tls: { clientCerts: true } }),
  ]);
});
afterAll(async () => {
  await Promise.all([tls?.stop(), mtls?.stop()]);
});

const health = (env: TestEnv, agent?: Agent) =>
  fetch(`${env.vaultAddr}/v1/sys/health`, agent ? { dispatcher: agent } : {});

describe('HTTPS engine stand-in', () => {
  it('serves https://127.0.0.1 with a certificate from env.tls.caPem', async () => {
    expect(tls.vaultAddr).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    await expect(health(tls)).rejects.toThrow();
    const r = await health(tls, new Agent({ connect: { ca: tls.tls?.caPem } }));
    expect(r.status).toBe(200);
  });

  it('curl trusts it with --cacert (VAULT_CACERT-style file)', async () => {
    const r = await run('curl', [
      '-sS',
      '--cacert',
      tls.tls?.caFile ?? '',
      `${tls.vaultAddr}/v1/sys/health`,
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).initialized).toBe(true);
  });

  it('with clientCerts, refuses a client without a certificate and accepts the harness one', async () => {
    const ca = mtls.tls?.caPem;
    await expect(health(mtls, new Agent({ connect: { ca } }))).rejects.toThrow();
    const withCert = new Agent({
      connect: {
        ca,
        cert: readFileSync(mtls.tls?.clientCertFile ?? ''),
        key: readFileSync(mtls.tls?.clientKeyFile ?? ''),
      },
    });
    expect((await health(mtls, withCert)).status).toBe(200);
  });

  it('a JWT login and a lease work over mTLS', async () => {
    const agent = new Agent({
      connect: {
        ca: mtls.tls?.caPem,
        cert: readFileSync(mtls.tls?.clientCertFile ?? ''),
        key: readFileSync(mtls.tls?.clientKeyFile ?? ''),
      },
    });
    const login = await fetch(`${mtls.vaultAddr}/v1/auth/github/login`, {
      method: 'POST',
      dispatcher: agent,
      body: JSON.stringify({ role: mtls.fixtures.github.role, jwt: mtls.issuer.githubToken() }),
    });
    const token = ((await login.json()) as { auth: { client_token: string } }).auth.client_token;
    const r = await fetch(`${mtls.vaultAddr}/v1/dockerhub/token/acmebot/read`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'X-Vault-Token': token },
      body: '{}',
    });
    expect(r.status).toBe(200);
    const { data } = (await r.json()) as { data: { username: string; token: string } };
    expect(await mtls.registry.canLogin(data.username, data.token)).toBe(true);

    // revoke-self over mTLS too, which also ends the lease: nothing may outlive the file.
    const revoked = await fetch(`${mtls.vaultAddr}/v1/auth/token/revoke-self`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'X-Vault-Token': token },
    });
    expect(revoked.status).toBe(204);
    expect(mtls.engine.liveLeases()).toEqual([]);
    expect(await mtls.registry.canLogin(data.username, data.token)).toBe(false);
  });
});
