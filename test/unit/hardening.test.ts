import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childEnv } from '../../src/core/child-env.js';
import { parseConfig } from '../../src/core/config.js';
import { VaultHttpError, VdlError } from '../../src/core/errors.js';
import { nodeExec } from '../../src/core/exec.js';
import { explainIssue, explainLogin } from '../../src/core/explain.js';
import { parseHostConfig } from '../../src/core/host-config.js';
import { judgeHttp } from '../../src/core/http.js';
import { privateDirCandidates } from '../../src/core/private-dir.js';
import { proxyFor } from '../../src/core/proxy-env.js';

const cfg = parseConfig({
  url: 'https://v.test',
  role: 'ci',
  account: 'bot',
  retries: '3',
  timeout: '30',
});

describe('proxyFor (what undici will use, for messages)', () => {
  const http = new URL('http://vault.test:8200/v1/x');
  const https = new URL('https://vault.test/v1/x');

  it('picks HTTP_PROXY for http and HTTPS_PROXY for https, lower case first', () => {
    const env = { HTTP_PROXY: 'http://a:1', https_proxy: 'http://b:2', HTTPS_PROXY: 'http://c:3' };
    expect(proxyFor(http, env)).toEqual({ url: 'http://a:1', from: 'HTTP_PROXY' });
    expect(proxyFor(https, env)).toEqual({ url: 'http://b:2', from: 'https_proxy' });
    // As undici: https falls back to the HTTP proxy when no HTTPS proxy is set.
    expect(proxyFor(https, { HTTP_PROXY: 'http://a:1' })).toEqual({
      url: 'http://a:1',
      from: 'HTTP_PROXY',
    });
  });

  it('never shows proxy credentials', () => {
    const p = proxyFor(http, { HTTP_PROXY: 'http://user:s3cret@proxy.test:3128' });
    expect(p?.url).toBe('http://proxy.test:3128');
  });

  it.each([
    ['vault.test', true],
    ['.test', true],
    ['*.test', true],
    ['*', true],
    ['vault.test:8200', true],
    ['vault.test:443', false],
    ['other.test', false],
    ['ault.test', false],
  ])('NO_PROXY=%s bypasses: %s', (entry, bypass) => {
    const p = proxyFor(http, { HTTP_PROXY: 'http://p:1', NO_PROXY: `example.com, ${entry}` });
    expect(p === undefined).toBe(bypass);
  });
});

describe('retry verdicts', () => {
  it('retries network errors, never TLS trust failures or timeouts', () => {
    expect(judgeHttp(new VdlError('network', 'x')).retry).toBe(true);
    expect(judgeHttp(new VdlError('tls', 'x')).retry).toBe(false);
    expect(judgeHttp(new VdlError('timeout', 'x')).retry).toBe(false);
  });
});

describe('Vault unavailable after retries', () => {
  it.each([412, 429, 502, 503, 504])(
    '%i is explained as Vault being unavailable, naming the inputs',
    (status) => {
      const err = new VaultHttpError(status, 'dockerhub/token/bot/read', ['Vault is sealed']);
      for (const e of [explainIssue(err, cfg), explainLogin(err, cfg, 'e30.e30.x')]) {
        expect((e as Error).message).toBe(
          `Vault kept answering ${status} on dockerhub/token/bot/read: Vault is sealed`,
        );
        expect((e as VdlError).hint).toContain('after at most 3 retries within 30 s');
        expect((e as VdlError).hint).toContain('Raise the retries input or the timeout input');
      }
    },
  );

  it('500 on the engine path stays an engine error (the plugin answers 500)', () => {
    const err = new VaultHttpError(500, 'dockerhub/token/bot/read', [
      '1 error occurred:\n\t* unable to finde configuration for "bot"\n\n',
    ]);
    const e = explainIssue(err, cfg) as VdlError;
    expect(e.message).toBe(
      'The Docker Hub engine at dockerhub/ has no account "bot" (nothing at dockerhub/config/bot).',
    );
    expect(e.hint).toContain('Check the account input, or configure the account on the engine:');
  });
});

describe('the private directory (state, cache)', () => {
  it('is /run/vault-docker-login for root without XDG_RUNTIME_DIR, then TMPDIR, then HOME', () => {
    // Only root may create under /run, so nobody can take root's name first.
    expect(privateDirCandidates({ TMPDIR: '/t', HOME: '/h' }, 0)).toEqual([
      '/run/vault-docker-login',
      '/t/vault-docker-login-0',
      '/h/.cache/vault-docker-login',
    ]);
    expect(privateDirCandidates({ TMPDIR: '/t', HOME: '/h' }, 1000)).toEqual([
      '/t/vault-docker-login-1000',
      '/h/.cache/vault-docker-login',
    ]);
    expect(privateDirCandidates({ XDG_RUNTIME_DIR: '/x', TMPDIR: '/t' }, 0)).toEqual([
      '/x/vault-docker-login-0',
      '/t/vault-docker-login-0',
    ]);
  });
});

describe('what a child process sees (attack 4)', () => {
  it("docker gets neither the Action's state, its inputs, the OIDC request token nor VAULT_TOKEN", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vdl-child-env-'));
    try {
      // A docker on PATH that prints the environment it was given, as a credential store would see it.
      writeFileSync(join(dir, 'docker'), '#!/bin/sh\nenv\n', { mode: 0o755 });
      const parent = {
        PATH: `${dir}:${process.env.PATH}`,
        HOME: dir,
        DOCKER_CONFIG: join(dir, 'docker-config'),
        HTTPS_PROXY: 'http://127.0.0.1:3128',
        STATE_session: '{"vaultToken":"hvs.session-token"}',
        INPUT_ROLE: 'ci',
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
        ACTIONS_RUNTIME_TOKEN: 'runtime-token',
        VAULT_TOKEN: 'hvs.borrowed',
        CIRCLE_OIDC_TOKEN: 'eyJ.circle.token',
        VAULT_ADDR: 'http://127.0.0.1:8200',
      };
      const r = await nodeExec('docker', ['logout'], { env: parent });
      const seen = Object.fromEntries(
        r.stdout
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      expect(Object.keys(seen)).toEqual(
        expect.arrayContaining(['PATH', 'HOME', 'DOCKER_CONFIG', 'HTTPS_PROXY', 'VAULT_ADDR']),
      );
      for (const k of [
        'STATE_session',
        'INPUT_ROLE',
        'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
        'ACTIONS_RUNTIME_TOKEN',
        'VAULT_TOKEN',
        'CIRCLE_OIDC_TOKEN',
      ])
        expect(seen[k], k).toBeUndefined();
      // The CI's own tool keeps what it needs.
      expect(childEnv('circleci', parent)).toHaveProperty('CIRCLE_OIDC_TOKEN');
      expect(childEnv('circleci', parent)).not.toHaveProperty('STATE_session');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('host entry points fail fast on a hanging Vault', () => {
  it('vault.timeout defaults to 10 s in the configuration file (60 s for a CI step)', async () => {
    const doc = (vault: Record<string, unknown>) => ({
      vault: { url: 'http://127.0.0.1:8200', ...vault },
      registries: [{ registry: 'registry.test', secret_path: 'secret/data/x' }],
    });
    const opts = { file: 'f.yml', label: 'test', registries: 'required' } as const;
    expect((await parseHostConfig(doc({}), {}, opts)).connection.timeoutMs).toBe(10_000);
    expect((await parseHostConfig(doc({ timeout: 30 }), {}, opts)).connection.timeoutMs).toBe(
      30_000,
    );
    expect(parseConfig({ url: 'https://v.test', role: 'r', account: 'a' }).timeoutMs).toBe(60_000);
  });
});
