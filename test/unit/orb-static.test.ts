// Static checks of the orb: shellcheck, the packed file's shape, descriptions, and packing in sync.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  expandCommand,
  loadPackedOrb,
  PACKED_ORB,
  type ParamValue,
} from '../harness/circleci-runner.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPTS = join(ROOT, 'orb', 'src', 'scripts');
const scripts = readdirSync(SCRIPTS).filter((f) => f.endsWith('.sh'));

interface Described {
  description?: string;
  parameters?: Record<string, { description?: string }>;
}

describe('orb scripts', () => {
  it('has the scripts the commands include', () => {
    expect(scripts.sort()).toEqual(
      [
        'entries.sh',
        'fields.sh',
        'helper-lib.sh',
        'helper-setup.sh',
        'helper.sh',
        'hints.sh',
        'http.sh',
        'json.sh',
        'login.sh',
        'logout.sh',
        'oidc.sh',
        'tls.sh',
        'utils.sh',
        'validate.sh',
      ].sort(),
    );
  });

  it.each(scripts)('%s is shellcheck clean', (script) => {
    const r = spawnSync('shellcheck', ['-s', 'bash', '-S', 'style', join(SCRIPTS, script)], {
      encoding: 'utf8',
    });
    if (r.error) {
      throw new Error('shellcheck is not installed: run `apt-get install shellcheck`');
    }
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.each(scripts)('%s never traces and runs neither jq nor python', (script) => {
    const text = readFileSync(join(SCRIPTS, script), 'utf8');
    expect(text).not.toMatch(/set -[a-z]*x|set -o xtrace/);
    // JSON is bash's own (json.sh): comments may name jq, code may not call it.
    const code = text.replace(/^\s*#.*$/gm, '').replace(/\s#\s.*$/gm, '');
    expect(code).not.toMatch(/\b(jq|python3?)\b/);
    // `<<` is CircleCI's parameter syntax: the scripts must not use heredocs or here-strings.
    expect(text).not.toContain('<<');
  });
});

describe('packed orb', () => {
  const orb = parse(readFileSync(PACKED_ORB, 'utf8'));

  it('parses as an orb with version, description and display URLs', () => {
    expect(orb.version).toBe(2.1);
    expect(orb.description.length).toBeGreaterThan(40);
    expect(orb.display.home_url).toMatch(/^https:\/\/github\.com\//);
    expect(orb.display.source_url).toMatch(/^https:\/\/github\.com\//);
  });

  it('describes every command, parameter and example', () => {
    const missing: string[] = [];
    for (const [kind, items] of Object.entries({
      commands: orb.commands,
      examples: orb.examples,
    }) as [string, Record<string, Described>][]) {
      for (const [name, item] of Object.entries(items)) {
        if (!item.description?.trim()) missing.push(`${kind}.${name}`);
        for (const [p, def] of Object.entries(item.parameters ?? {})) {
          if (!def.description?.trim()) missing.push(`${kind}.${name}.parameters.${p}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(Object.keys(orb.commands).sort()).toEqual(['login', 'logout']);
    expect(Object.keys(orb.examples).length).toBeGreaterThanOrEqual(2);
  });

  it('names every step, inlines every include, and runs logout with when: always', () => {
    const text = readFileSync(PACKED_ORB, 'utf8');
    expect(text).not.toContain('include(');
    for (const [name, cmd] of Object.entries(orb.commands) as [string, { steps: unknown[] }][]) {
      for (const step of cmd.steps) {
        expect(step, name).toMatchObject({ run: { name: expect.any(String) } });
      }
    }
    expect(orb.commands.logout.steps[0].run.when).toBe('always');
  });

  it('passes parameters to scripts only as PARAM_* environment variables', () => {
    for (const name of Object.keys(orb.commands)) {
      const given: Record<string, ParamValue> = name === 'login' ? { role: 'r' } : {};
      for (const step of expandCommand(loadPackedOrb(), name, given)) {
        expect(step.command).not.toMatch(/<<\s*parameters\./);
      }
      const raw = JSON.stringify(orb.commands[name].steps.map((s: { run: object }) => s.run));
      const refs = [...raw.matchAll(/"(\w+)":"<< parameters\.(\w+) >>"/g)];
      for (const [, envName, param] of refs) expect(envName).toBe(`PARAM_${param?.toUpperCase()}`);
      expect(Object.keys(orb.commands[name].parameters).length).toBe(refs.length);
    }
  });

  it('has examples for a machine executor and a docker executor with setup_remote_docker, each cleaning up', () => {
    const usages = Object.values(orb.examples).map((e) =>
      JSON.stringify((e as { usage: object }).usage),
    );
    expect(usages.some((u) => u.includes('"machine"'))).toBe(true);
    expect(usages.some((u) => u.includes('setup_remote_docker') && u.includes('"docker"'))).toBe(
      true,
    );
    for (const u of usages) expect(u).toContain('vault-docker-login/logout');
  });

  it('is in sync with orb/src', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'pack-orb.mjs'), '--check'], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
