// Docs are code: every configuration file and Vault setup block of docs/credential-helper.md runs
// here against the real OpenBao, engine stand-in and registry, swapping only the example names
// (vault.example.com, registry.example.com, the Docker Hub account, file paths) for the test
// environment's. Each configuration's registries are then served a credential the registry takes.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeToken } from '../harness/approle.js';
import { startEnv, type TestEnv } from '../harness/index.js';
import { docBlock, docBlocks } from './credential-helper-docs.js';
import { type Host, type HostKit, helperSuite, secretFile } from './credential-helper-host.js';

let env: TestEnv;
let kit: HostKit;

const extraSecrets = helperSuite({
  start: () => startEnv(),
  ready: (e, k) => {
    env = e;
    kit = k;
  },
});

/** The example names every page block uses, and what stands for them here. */
const common = () => ({
  'https://vault.example.com:8200': env.vaultAddr,
  'registry.example.com': env.registry.host,
  'myorg-bot': env.fixtures.account,
});

/** Gets each server's credential, checks the registry takes it, then erases it. */
async function servesAll(h: Host, servers: string[]) {
  for (const server of servers) {
    const r = await h.get(server);
    expect(r.code, `${server}: ${r.stdout}`).toBe(0);
    const c = JSON.parse(r.stdout) as { Username: string; Secret: string };
    expect(await env.registry.canLogin(c.Username, c.Secret)).toBe(true);
  }
  for (const server of servers) expect((await h.erase(server)).code).toBe(0);
}

it('marks every block the tests below take, and nothing else', () => {
  expect(docBlocks().map((b) => `${b.kind}:${b.name}:${b.lang}`)).toEqual([
    'config:docker-config:json',
    'config:jwt:yaml',
    'config:approle:yaml',
    'snippet:credential-helper-approle:sh',
    'config:token-file:yaml',
    'config:token:yaml',
    'config:containers-auth:json',
  ]);
});

describe('configuration files', () => {
  it('jwt: the full file with every section, a KV registry and Docker Hub', async () => {
    const fx = env.fixtures;
    const jwt = secretFile(env.tmpDir, 'doc-jwt', env.issuer.githubToken({ expiresIn: 900 }));
    const h = kit.host(
      docBlock('jwt', {
        ...common(),
        'jwt-nomad': fx.githubMount,
        'role: image-pull': `role: ${fx.github.role}`,
        '/var/run/secrets/vault/jwt': jwt,
        'secret/data/ci/registry': `${fx.kvMount}/data/${fx.kvPath}`,
      }),
    );
    await servesAll(h, [env.registry.host, 'https://index.docker.io/v1/']);
  });

  it('approle: the Vault setup block, then the file it configures, wrapped secret_id and all', async () => {
    const dir = join(env.tmpDir, 'doc-approle');
    mkdirSync(dir);
    const shim = join(dir, 'bin');
    mkdirSync(shim);
    // The bao CLI takes the vault CLI's commands and VAULT_* variables.
    writeFileSync(join(shim, 'vault'), '#!/bin/sh\nexec bao "$@"\n');
    chmodSync(join(shim, 'vault'), 0o755);
    const setup = spawnSync(
      'bash',
      [
        '--norc',
        '--noprofile',
        '-euo',
        'pipefail',
        '-c',
        docBlock('credential-helper-approle', { 'myorg-bot': env.fixtures.account }),
      ],
      {
        cwd: dir,
        env: {
          PATH: `${shim}:${process.env.PATH}`,
          HOME: dir,
          // OpenBao itself: the bao CLI's requests hang in the engine stand-in (left for the harness).
          VAULT_ADDR: env.baoAddr,
          VAULT_TOKEN: env.rootToken,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      },
    );
    expect(setup.status, setup.stderr).toBe(0);
    const wrapped = readFileSync(join(dir, 'secret-id'), 'utf8').trim();
    expect(wrapped).toMatch(/^(s|hvs)\./);
    extraSecrets.push(wrapped);
    const h = kit.host(
      docBlock('approle', {
        ...common(),
        '/etc/vault-docker-login/role-id': join(dir, 'role-id'),
        '/etc/vault-docker-login/secret-id': join(dir, 'secret-id'),
        '/var/lib/vault-docker-login': join(dir, 'state'),
      }),
    );
    await servesAll(h, [env.registry.host]);
    for (const f of readdirSync(join(dir, 'state')))
      extraSecrets.push(
        (JSON.parse(readFileSync(join(dir, 'state', f), 'utf8')) as { value: string }).value,
      );
  });

  it('token-file: a Vault Agent sink, read and never revoked', async () => {
    const token = await makeToken(env, ['dockerhub-rw-revoke']);
    extraSecrets.push(token);
    const sink = secretFile(env.tmpDir, 'doc-agent-token', `${token}\n`);
    const h = kit.host(docBlock('token-file', { ...common(), '/run/vault-agent/token': sink }));
    await servesAll(h, [env.registry.host]);
    expect(await env.vaultTokenAlive(token)).toBe(true);
  });

  it('token: VAULT_TOKEN from the environment of whoever runs docker', async () => {
    const token = await makeToken(env, ['dockerhub-rw-revoke']);
    extraSecrets.push(token);
    const h = kit.host(docBlock('token', common()));
    const withToken = { ...h.env, VAULT_TOKEN: token };
    const r = await h.call('get', env.registry.host, withToken);
    expect(r.code, r.stdout).toBe(0);
    const c = JSON.parse(r.stdout) as { Username: string; Secret: string };
    expect(await env.registry.canLogin(c.Username, c.Secret)).toBe(true);
    expect((await h.call('erase', env.registry.host, withToken)).code).toBe(0);
    expect(await env.registry.canLogin(c.Username, c.Secret)).toBe(false);
    expect(await env.vaultTokenAlive(token)).toBe(true);
  });

  it('docker-config and containers-auth: credHelpers naming this helper, no auths', () => {
    for (const name of ['docker-config', 'containers-auth']) {
      const swap = { 'registry.example.com': env.registry.host };
      const cfg = JSON.parse(docBlock(name, swap)) as Record<string, Record<string, string>>;
      expect(Object.keys(cfg)).toEqual(['credHelpers']);
      expect(cfg.credHelpers?.[env.registry.host]).toBe('vault');
    }
  });
});
