// The credential-helper mode's pure parts: the job's config.json (credHelpers keys, what is
// carried over), the job directory's checks, the helper's `credential_helper.job` settings, and
// the CLI's session per CI job.
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ciJob, refuseOtherJob, sessionName } from '../../src/cli/ci-job.js';
import { checkJobDir, createJobDir } from '../../src/core/job-dir.js';
import { DOCKER_HUB_KEYS, helperKeys, jobDockerConfig } from '../../src/core/job-docker-config.js';

describe("the job's config.json", () => {
  it('sends Docker Hub under every spelling and other registries under host[:port]', () => {
    expect(helperKeys('docker.io')).toEqual(DOCKER_HUB_KEYS);
    expect(DOCKER_HUB_KEYS).toEqual([
      'https://index.docker.io/v1/',
      'index.docker.io',
      'docker.io',
      'registry-1.docker.io',
    ]);
    expect(helperKeys('127.0.0.1:5000')).toEqual(['127.0.0.1:5000']);
    expect(helperKeys('ghcr.io/acme')).toEqual(['ghcr.io']);
    expect(helperKeys('Registry.Example.com')).toEqual([
      'Registry.Example.com',
      'registry.example.com',
    ]);
  });

  it("carries the user's other logins over and drops the job's registries from them", () => {
    const user = {
      auths: { 'https://index.docker.io/v1/': { auth: 'x' }, 'quay.io': { auth: 'y' } },
      credsStore: 'desktop',
      credHelpers: { 'gcr.io': 'gcloud', '127.0.0.1:5000': 'other' },
      proxies: { default: { httpProxy: 'http://127.0.0.1:3128' } },
    };
    expect(jobDockerConfig(user, ['docker.io', '127.0.0.1:5000'])).toEqual({
      auths: { 'quay.io': { auth: 'y' } },
      credsStore: 'desktop',
      credHelpers: {
        'gcr.io': 'gcloud',
        '127.0.0.1:5000': 'vault',
        ...Object.fromEntries(DOCKER_HUB_KEYS.map((k) => [k, 'vault'])),
      },
      proxies: { default: { httpProxy: 'http://127.0.0.1:3128' } },
    });
  });
});

describe('the job directory', () => {
  it('is made 0700 in RUNNER_TEMP, and refused inside the workspace', () => {
    const base = mkdtempSync(join(tmpdir(), 'vdl-unit-'));
    const d = createJobDir({ RUNNER_TEMP: base });
    expect(d.dir.startsWith(base)).toBe(true);
    expect(() => checkJobDir(d.dir)).not.toThrow();
    expect(() => createJobDir({ RUNNER_TEMP: base, GITHUB_WORKSPACE: base })).toThrow(
      /inside the workspace \(GITHUB_WORKSPACE\)/,
    );
  });

  it('cleanup refuses what is not a private job directory of this user', () => {
    const base = mkdtempSync(join(tmpdir(), 'vdl-unit-'));
    const other = join(base, 'home');
    mkdirSync(other, { mode: 0o700 });
    expect(() => checkJobDir(other)).toThrow(/not a job directory/);
    const d = createJobDir({ RUNNER_TEMP: base });
    chmodSync(d.dir, 0o755);
    expect(() => checkJobDir(d.dir)).toThrow(/not a job directory/);
    const link = join(base, 'vault-docker-login-job-link');
    symlinkSync(other, link);
    expect(() => checkJobDir(link)).toThrow(/not a job directory/);
  });
});

describe("the CLI's session per CI job", () => {
  it('is named by the job id, Jenkins BUILD_TAG made a file name', () => {
    expect(sessionName(undefined, ciJob({ CI_JOB_ID: '42' }))).toBe('job-42');
    expect(sessionName(undefined, ciJob({ BUILDKITE_JOB_ID: 'a-b' }))).toBe('job-a-b');
    expect(sessionName(undefined, ciJob({ CIRCLE_WORKFLOW_JOB_ID: 'c1' }))).toBe('job-c1');
    expect(sessionName(undefined, ciJob({ BUILD_TAG: 'jenkins-team/app main-7' }))).toBe(
      'job-jenkins-team_app_main-7',
    );
    expect(sessionName(undefined, ciJob({}))).toBe('default');
    expect(sessionName('mine', ciJob({ CI_JOB_ID: '42' }))).toBe('mine');
  });

  it("refuses another job's logout, with both ids", () => {
    const a = { variable: 'CI_JOB_ID', id: '1' };
    expect(() => refuseOtherJob(a, a, 's.json')).not.toThrow();
    expect(() => refuseOtherJob(undefined, a, 's.json')).not.toThrow();
    expect(() => refuseOtherJob(a, { variable: 'CI_JOB_ID', id: '2' }, 's.json')).toThrow(
      'The login in s.json belongs to CI job 1 (CI_JOB_ID); this is job 2 (CI_JOB_ID).',
    );
    expect(() => refuseOtherJob(a, undefined, 's.json')).toThrow('this is not a CI job');
  });
});
