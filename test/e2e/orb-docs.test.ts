// Docs are code: the credential_helper job of docs/orb.md runs here as CircleCI would run it,
// against the real OpenBao, engine stand-in, registry and daemon, swapping only the example
// names (Vault address, registry, account, image, the build command) for the test environment's.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { makeArgvRecorder } from '../harness/argv-recorder.js';
import { type JobStep, type ParamValue, runJob } from '../harness/circleci-runner.js';
import { docBlock } from '../harness/doc-blocks.js';
import { type DaemonEnv, startEnv } from '../harness/index.js';
import { expectNothingAlive } from './expect-clean.js';
import { expectNoJobLeaks } from './orb-job.js';

const PAGE = join(import.meta.dirname, '..', '..', 'docs', 'orb.md');

let env: DaemonEnv;
beforeAll(async () => {
  env = await startEnv({ daemon: true });
});
afterAll(async () => {
  await env?.stop();
});
afterEach(() => {
  expectNothingAlive(env);
});

type DocStep = string | { run: string } | Record<string, Record<string, ParamValue>>;

/** The page's job steps as the runner takes them: orb commands, run steps; checkout is a no-op. */
function jobSteps(yaml: string): JobStep[] {
  const doc = parse(yaml) as { jobs: { build: { steps: DocStep[] } } };
  return doc.jobs.build.steps.flatMap((step): JobStep[] => {
    if (step === 'checkout') return [];
    if (step === 'vault-docker-login/logout') return [{ orb: 'logout' }];
    if (typeof step === 'string') throw new Error(`unexpected step ${step}`);
    if ('run' in step && typeof step.run === 'string') return [{ run: step.run }];
    const params = (step as Record<string, Record<string, ParamValue>>)['vault-docker-login/login'];
    if (!params) throw new Error(`unexpected step ${JSON.stringify(step)}`);
    return [{ orb: 'login', parameters: params }];
  });
}

it('runs the credential_helper job of docs/orb.md: pull, build, push, and nothing left after logout', async () => {
  const fx = env.fixtures;
  const yaml = docBlock(PAGE, 'orb-credential-helper', {
    'https://vault.example.com:8200': env.vaultAddr,
    'registry.example.com/myorg/base:1': env.privateImage,
    'registry.example.com': env.registry.host,
    'role: ci-images': `role: ${fx.circleci.role}`,
    'myorg-bot': fx.account,
    './build.sh': 'echo building',
  });
  const dir = mkdtempSync(join(env.tmpDir, 'orb-docs-'));
  const recorder = makeArgvRecorder(dir, ['docker', 'curl']);
  const r = await runJob({
    dir,
    steps: jobSteps(yaml),
    pathPrepend: [recorder.binDir],
    oidcTokens: { [fx.audience]: env.issuer.circleciToken({ claims: { aud: fx.audience } }) },
    env: { CIRCLE_OIDC_TOKEN_V2: env.issuer.circleciToken({ v2: true }), ...env.daemon.env() },
  });
  expectNoJobLeaks(r, recorder.argv(), env.secrets());
  expect(r.success, r.output).toBe(true);
  expect(r.steps.map((s) => s.status)).toEqual(Array(5).fill('success'));
  expect(r.output).toContain('Credential helper mode');
  expect(r.steps[1]?.output).toMatch(/Status: (Downloaded newer image|Image is up to date) for /);
  expect(r.steps[3]?.output).toMatch(/1: digest: sha256:/);
  expect(r.output).toContain('Revoked the Vault token');
});
