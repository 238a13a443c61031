// The same src/ entry points run by GitHub's own @github/local-action, an independent runner
// that swaps @actions/core for its stub and keeps state between main and post in-process.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEnv, type TestEnv } from '../harness/index.js';
import { findLeaks } from '../harness/leak.js';

let env: TestEnv;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.stop();
});

it('logs in and cleans up under @github/local-action', async () => {
  const dir = mkdtempSync(join(env.tmpDir, 'local-action-'));
  const dockerConfig = join(dir, 'docker');
  const lines = {
    INPUT_URL: env.vaultAddr,
    'INPUT_AUTH-MOUNT': env.fixtures.githubMount,
    INPUT_ROLE: env.fixtures.github.role,
    INPUT_AUDIENCE: env.fixtures.audience,
    INPUT_ACCOUNT: env.fixtures.account,
    INPUT_REGISTRY: env.registry.host,
    // Run from the sources, where no helper bundle sits beside main: the docker login path.
    'INPUT_CREDENTIAL-HELPER': 'false',
    ACTIONS_ID_TOKEN_REQUEST_URL: env.issuer.github.requestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: env.issuer.github.requestToken,
    GITHUB_REPOSITORY: env.fixtures.github.repository,
    GITHUB_RUN_ID: '7',
    GITHUB_RUN_ATTEMPT: '1',
    DOCKER_CONFIG: dockerConfig,
    LOCAL_ACTION_WORKSPACE: dir,
  };
  const envFile = join(dir, '.env');
  writeFileSync(
    envFile,
    Object.entries(lines)
      .map(([k, v]) => `${k}="${v}"`)
      .join('\n'),
  );
  const bin = join('node_modules', '.bin', 'local-action');
  const out = await new Promise<{ code: number; text: string }>((resolve) => {
    const child = spawn(
      bin,
      ['run', '.', 'src/action/main.ts', envFile, '--post', 'src/action/post.ts'],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          NODE_PACKAGE_MANAGER: 'npm',
          NO_COLOR: '1',
        },
      },
    );
    let text = '';
    child.stdout.on('data', (d: Buffer) => {
      text += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      text += d;
    });
    child.on('close', (code) => resolve({ code: code ?? 1, text }));
  });
  expect(out.code, out.text).toBe(0);
  expect(out.text).toContain(
    `docker login to ${env.registry.host} as "${env.fixtures.account}" succeeded`,
  );
  expect(out.text).toContain('Vault token revoked');
  expect(out.text).toContain('Credential for "acmebot" from dockerhub/token/acmebot/read: lease');
  expect(env.hub.liveTokens().filter((t) => t.label.includes('run 7'))).toEqual([]);
  const cfg = JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8')) as {
    auths?: object;
  };
  expect(cfg.auths).toEqual({});
  expect(env.engine.liveLeases()).toEqual([]);
  // local-action prints no add-mask commands (it redacts itself), so only check that no secret shows.
  expect(findLeaks(out.text, env.secrets(), { allowAddMask: true })).toEqual([]);
}, 120_000);
