// The orb and the TypeScript core judge inputs alike: every case of test/tables/inputs.ts through
// the core's loadConfig (the Action, the CLI) and through the packed orb's login command, which
// must refuse the same setting for the same reason before anything talks to Vault (the address
// points nowhere, so a case the orb accepts ends at "no answer from").
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { loadConfig } from '../../src/core/load-config.js';
import { loadPackedOrb, type ParamValue, runJob } from '../harness/circleci-runner.js';
import { BASE, INPUT_CASES, type InputCase, REASONS } from '../tables/inputs.js';

const inputsOf = (c: InputCase) => ({ ...BASE, ...c.inputs });
const shown = (c: InputCase) => JSON.stringify(c.inputs);
const ROWS = INPUT_CASES.map((c) => [shown(c), c] as const);

describe('the core judges the input table', () => {
  it.each(ROWS)('%s', async (_, c) => {
    const result = await loadConfig(inputsOf(c), {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!c.refused) {
      expect(result).toBeUndefined();
      return;
    }
    expect(result).toBeInstanceOf(ConfigError);
    const err = result as ConfigError;
    expect({ setting: err.input, message: err.message }).toEqual({
      setting: c.refused.setting,
      message: expect.stringContaining(REASONS[c.refused.why].core),
    });
  });
});

const orbParams = loadPackedOrb().commands.login?.parameters ?? {};
const scratch = mkdtempSync(join(tmpdir(), 'vdl-orb-inputs-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The case as the orb's parameters: snake_case names, integers as numbers, "" left at its default. */
function orbParameters(c: InputCase): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [name, value] of Object.entries(inputsOf(c))) {
    const key = name.replace(/-/g, '_');
    if (value === '') continue;
    out[key] = orbParams[key]?.type === 'integer' ? Number(value) : value;
  }
  return out;
}

/** What the orb said, or what CircleCI's config compilation refused (enum and integer types). */
async function runOrb(c: InputCase): Promise<{ success: boolean; output: string }> {
  try {
    return await runJob({
      dir: mkdtempSync(join(scratch, 'job-')),
      steps: [{ orb: 'login', parameters: orbParameters(c) }],
      env: { CIRCLE_OIDC_TOKEN: 'not-a-real-token' },
    });
  } catch (e) {
    return { success: false, output: (e as Error).message };
  }
}

describe('the orb judges the input table', () => {
  it.concurrent.each(ROWS)('%s', async (_, c) => {
    const r = await runOrb(c);
    expect(r.success).toBe(false);
    expect(r.output).not.toContain('not-a-real-token');
    if (!c.refused) {
      expect(r.output).not.toMatch(/ERROR: parameters? '/);
      expect(r.output).toMatch(/no answer from https?:\/\/127\.0\.0\.1/);
      return;
    }
    const name = c.refused.setting.replace(/-/g, '_');
    expect(r.output).not.toContain('no answer from');
    // The orb's own words, "parameter 'x' is invalid|empty", or CircleCI's when it compiles the
    // config: "parameter x must be", "required parameter x is missing".
    const n = reEscape(name);
    expect(r.output).toMatch(
      new RegExp(`parameter ('${n}' is (invalid|empty)|${n} must be|${n} is missing)`),
    );
    expect(r.output).toContain(REASONS[c.refused.why].orb);
  });
});

function reEscape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
