// Self-test: the leak scanner, the argv recorder and the leftover-process check catch what they
// are meant to catch.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeArgvRecorder } from '../harness/argv-recorder.js';
import { markedProcesses, missingTools } from '../harness/global-setup.js';
import { expectNoLeaks, findLeaks, maskedBeforeUse } from '../harness/leak.js';
import { CHILD_ENV, RUN_ENV } from '../harness/procs.js';

const dir = mkdtempSync(join(tmpdir(), 'vdl-tools-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
const pat = 'dckr_pat_abcdefghijklmnop';
const auth = Buffer.from(`acmebot:${pat}`).toString('base64');

describe('leak scanner', () => {
  it('names the kind of secret and the line, never the value', () => {
    const leaks = findLeaks(`ok\ntoken=${pat}\n${auth}\nbearer ${jwt}`, [jwt, pat, auth]);
    expect(leaks).toEqual([
      'line 2: Docker Hub access token (25 chars) appears in the output',
      'line 3: base64 user:secret (docker config auth) (44 chars) appears in the output',
      'line 4: OIDC token (JWT) (49 chars) appears in the output',
    ]);
    expect(leaks.join('\n')).not.toContain(pat);
    expect(() => expectNoLeaks(`x ${pat}`, [pat])).toThrow(/Docker Hub access token/);
    expect(() => expectNoLeaks('clean output', [pat, jwt])).not.toThrow();
  });

  it('allows ::add-mask:: lines only when asked', () => {
    const out = `::add-mask::${pat}\nlogged in`;
    expect(findLeaks(out, [pat])).toHaveLength(1);
    expect(findLeaks(out, [pat], { allowAddMask: true })).toEqual([]);
    expect(findLeaks(`echo ::add-mask::${pat}`, [pat], { allowAddMask: true })).toHaveLength(1);
  });

  it('maskedBeforeUse needs the mask before any other appearance', () => {
    expect(maskedBeforeUse(`::add-mask::${pat}\nuse ${pat}`, pat)).toBe(true);
    expect(maskedBeforeUse(`use ${pat}\n::add-mask::${pat}`, pat)).toBe(false);
    expect(maskedBeforeUse('nothing', pat)).toBe(false);
  });
});

describe('argv recorder', () => {
  it('records each call as JSON and runs the real binary', () => {
    const rec = makeArgvRecorder(dir, ['jq', 'curl']);
    const env = { ...process.env, PATH: rec.pathWith(process.env.PATH) };
    const r = spawnSync('jq', ['-n', '--arg', 'a', 'it\'s "quoted"', '$a'], {
      env,
      encoding: 'utf8',
    });
    expect(r.stdout.trim()).toBe('"it\'s \\"quoted\\""');
    spawnSync('curl', ['--version'], { env });
    expect(rec.argv()).toEqual([
      ['jq', '-n', '--arg', 'a', 'it\'s "quoted"', '$a'],
      ['curl', '--version'],
    ]);
  });

  it('refuses a command that is not installed', () => {
    expect(() => makeArgvRecorder(dir, ['no-such-tool-vdl'])).toThrow(/not on PATH/);
  });
});

describe('global setup', () => {
  it('finds every required tool on this machine', () => {
    expect(missingTools()).toEqual([]);
  });

  it('finds a process carrying this run’s child marker', async () => {
    const runId = process.env[RUN_ENV] ?? '';
    expect(runId).toMatch(/^run-[0-9a-f]{16}$/);
    const child = spawn('sleep', ['30'], { env: { ...process.env, [CHILD_ENV]: runId } });
    try {
      await new Promise((r) => setTimeout(r, 100));
      expect(markedProcesses(runId).map(([pid]) => pid)).toContain(child.pid);
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((r) => child.once('exit', r));
    expect(markedProcesses(runId).map(([pid]) => pid)).not.toContain(child.pid);
  });
});
