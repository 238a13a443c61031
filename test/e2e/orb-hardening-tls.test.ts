// The orb against a Vault that speaks HTTPS with a CA the test made and requires a client
// certificate (mTLS): the CA and client pair from VAULT_* variables or from parameters (PEM or
// base64), skip-verify only with a loud warning, and HTTPS through a real forward proxy.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEnv, type TestEnv } from '../harness/index.js';
import { expectNoLeaks, pemBodyLines } from '../harness/leak.js';
import { type ForwardProxy, startProxy } from '../harness/proxy.js';
import { expectNothingAlive } from './expect-clean.js';
import { leftovers, orbJob } from './orb-job.js';

let env: TestEnv;
let tls: NonNullable<TestEnv['tls']>;
let proxy: ForwardProxy;
let keyPem: string;
beforeAll(async () => {
  env = await startEnv({ tls: { clientCerts: true } });
  if (!env.tls) throw new Error('startEnv({ tls }) gave no env.tls');
  tls = env.tls;
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

function login(extra: Record<string, string | number | boolean> = {}) {
  const fx = env.fixtures;
  return {
    auth_mount: fx.circleciMount,
    role: fx.circleci.role,
    account: fx.account,
    registry: env.registry.host,
    timeout: 20,
    ...extra,
  };
}

const fileEnv = () => ({
  VAULT_CACERT: tls.caFile,
  VAULT_CLIENT_CERT: tls.clientCertFile,
  VAULT_CLIENT_KEY: tls.clientKeyFile,
});

describe('orb over TLS with mTLS', () => {
  it('is served over https only', () => {
    expect(env.vaultAddr).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('trusts VAULT_CACERT and presents VAULT_CLIENT_CERT / VAULT_CLIENT_KEY, login to logout', async () => {
    const r = await orbJob(env, { login: login(), env: fileEnv(), extraSecrets: keyLines() });
    expect(r.success, r.output).toBe(true);
    expect(r.output).toContain('Revoked the Vault token and lease');
    expect(r.argv).toContainEqual(
      expect.arrayContaining(['curl', '--cacert', tls.caFile, '--cert', tls.clientCertFile]),
    );
    expect(r.output).not.toContain('vault-docker-login: WARNING');
  });

  it('takes ca_certificate as base64 and the client pair as PEM parameters, in 0600 files never in argv', async () => {
    const r = await orbJob(env, {
      login: login({
        ca_certificate: b64(tls.caPem),
        client_certificate: readFileSync(tls.clientCertFile, 'utf8'),
        // As a user would: the key in a project variable, named by the parameter.
        client_key: '$VDL_TEST_CLIENT_KEY',
      }),
      env: { VDL_TEST_CLIENT_KEY: b64(keyPem) },
      extraSecrets: keyLines(),
      between: [
        {
          name: 'Show the key file modes',
          run: 'stat -c "%a %n" "$TMPDIR"/vault-docker-login-*/session.*',
        },
      ],
    });
    expect(r.success, r.output).toBe(true);
    const modes = r.steps[1]?.output.trim().split('\n') ?? [];
    expect(modes.map((l) => l.replace(/ .*session\.\w{6}/, ' session'))).toEqual([
      '600 session',
      '600 session.ca.pem',
      '600 session.cert.pem',
      '600 session.key.pem',
    ]);
    expect(JSON.stringify(r.argv)).not.toContain('BEGIN');
    expect(r.output).toContain('Revoked the Vault token and lease');
    // Logout deleted the key, certificate and CA copies with the state.
    expect(leftovers(r)).toEqual([]);
  });

  it('fails with a TLS hint when no client certificate is presented, leaving nothing behind', async () => {
    const r = await orbJob(env, {
      login: login({ retries: 0 }),
      env: { VAULT_CACERT: tls.caFile },
    });
    expect(r.steps.map((s) => s.status)).toEqual(['failed', 'success']);
    expect(r.steps[0]?.output).toMatch(/no answer from https:\/\/127\.0\.0\.1/);
    expect(r.steps[0]?.output).toContain("'ca_certificate' or VAULT_CACERT");
  });

  it('refuses an unknown CA, naming ca_certificate', async () => {
    const { VAULT_CACERT: _, ...rest } = fileEnv();
    const r = await orbJob(env, { login: login({ retries: 0 }), env: rest });
    expect(r.steps[0]?.status).toBe('failed');
    expect(r.steps[0]?.output).toMatch(/certificate/i);
    expect(r.steps[0]?.output).toContain("'ca_certificate'");
  });

  it('skips verification only when told, with a loud warning in login', async () => {
    const { VAULT_CACERT: _, ...rest } = fileEnv();
    const r = await orbJob(env, {
      login: login({ tls_skip_verify: true }),
      env: rest,
      extraSecrets: keyLines(),
    });
    expect(r.success, r.output).toBe(true);
    expect(r.steps[0]?.output).toContain('WARNING: TLS VERIFICATION OF VAULT IS OFF');
    expect(r.argv.filter((a) => a[0] === 'curl').every((a) => a.includes('-k'))).toBe(true);
  });

  it('rejects half a client pair and a key that is not PEM', async () => {
    const half = await orbJob(env, {
      login: login({ client_certificate: readFileSync(tls.clientCertFile, 'utf8') }),
      env: { VAULT_CACERT: tls.caFile },
    });
    expect(half.steps[0]?.output).toContain(
      "parameters 'client_certificate' and 'client_key' go together",
    );
    const notPem = await orbJob(env, {
      login: login({ client_certificate: tls.clientCertFile, client_key: 'bm90IGEga2V5' }),
      env: { VAULT_CACERT: tls.caFile },
    });
    expect(notPem.steps[0]?.output).toContain("parameter 'client_certificate' is invalid");
    for (const r of [half, notPem]) expect(r.argv.filter((a) => a[0] === 'curl')).toEqual([]);
  });

  it('reaches Vault through HTTPS_PROXY (CONNECT), and NO_PROXY bypasses it', async () => {
    const port = new URL(env.vaultAddr).port;
    const before = proxy.requests().length;
    const { VAULT_CACERT: _, ...pair } = fileEnv();
    const via = await orbJob(env, {
      // The CA as PEM text this time.
      login: login({ ca_certificate: tls.caPem }),
      env: { ...pair, HTTPS_PROXY: proxy.url },
      extraSecrets: keyLines(),
    });
    expect(via.success, via.output).toBe(true);
    // Two requests to log in, two to clean up, each a CONNECT tunnel through the proxy.
    expect(proxy.requests().slice(before)).toEqual(
      Array.from({ length: 4 }, () => `CONNECT 127.0.0.1:${port}`),
    );

    const mid = proxy.requests().length;
    const direct = await orbJob(env, {
      login: login(),
      env: { ...fileEnv(), HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' },
      extraSecrets: keyLines(),
    });
    expect(direct.success, direct.output).toBe(true);
    expect(proxy.requests().slice(mid)).toEqual([]);
    // The proxy saw only encrypted tunnels: nothing secret in its log.
    expectNoLeaks(proxy.log(), env.secrets());
  });
});
