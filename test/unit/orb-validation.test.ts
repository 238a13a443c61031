// Input validation of the orb's login command, run from the packed orb: every rejection names
// the parameter and the accepted form, before any network call (the URL points nowhere). The
// verdicts it shares with the core are in test/tables/inputs.ts (orb-core-inputs.test.ts); here
// are the orb's own.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  expandCommand,
  loadPackedOrb,
  type ParamValue,
  runJob,
} from '../harness/circleci-runner.js';
import { INPUT_CASES, REASONS } from '../tables/inputs.js';

const GOOD = {
  url: 'http://127.0.0.1:9',
  role: 'build',
  account: 'acmebot',
  registry: '127.0.0.1:5000',
  timeout: 5,
  retries: 0,
};

function run(parameters: Record<string, ParamValue>, hide?: string[]) {
  return runJob({
    dir: mkdtempSync(join(tmpdir(), 'orb-validate-')),
    steps: [{ orb: 'login', parameters }],
    env: { CIRCLE_OIDC_TOKEN: 'not-a-real-token' },
    hide,
  });
}

describe('orb login input validation', () => {
  // The JSON parameters are read by the orb's own parser (json.sh; orb-static checks no script
  // calls jq or python): one case of each kind from the shared table (test/tables/inputs.ts),
  // judged the same with neither on PATH.
  const kinds = ['registriesShape', 'entryNotString', 'notJsonObject'];
  const JSON_CASES = kinds
    .map((why) => INPUT_CASES.find((c) => c.refused?.why === why))
    .filter((c) => c !== undefined)
    .map((c) => [JSON.stringify(c.inputs), c] as const);
  it.concurrent.each(JSON_CASES)(
    'refuses %s the same way with neither jq nor python3 on PATH',
    async (_, c) => {
      const params: Record<string, ParamValue> = { ...GOOD };
      for (const [name, value] of Object.entries(c.inputs)) {
        const key = name.replace(/-/g, '_');
        if (value === '') delete params[key];
        else params[key] = value;
      }
      const r = await run(params, ['jq', 'python3']);
      expect(r.success).toBe(false);
      const name = c.refused?.setting.replace(/-/g, '_') ?? '';
      expect(r.output).toContain(`parameter '${name}' is invalid`);
      expect(r.output).toContain(REASONS[c.refused?.why ?? 'required'].orb);
      expect(r.output).toContain('Accepted:');
    },
  );

  it('refuses registries together with the single-registry parameters, naming them', async () => {
    const r = await run({ ...GOOD, registries: '[{"secret_path": "a/b"}]' });
    expect(r.output).toContain(
      "parameter 'registries' is invalid: it replaces 'registry' 'account'",
    );
  });

  it('refuses a body with a read, and a client certificate without its key', async () => {
    const body = await run({ ...GOOD, account: '', secret_path: 'kv/data/x', secret_body: '{}' });
    expect(body.output).toContain(
      "parameter 'secret_body' is invalid: a body is only sent with method write",
    );
    const half = await run({ ...GOOD, client_key: 'x' });
    expect(half.output).toContain("parameters 'client_certificate' and 'client_key' go together");
    const notPem = await run({ ...GOOD, client_certificate: 'not a certificate', client_key: 'x' });
    expect(notPem.output).toContain("parameter 'client_certificate' is invalid");
  });

  it('requires an account unless secret_path is set', async () => {
    const r = await run({ ...GOOD, account: '' });
    expect(r.output).toContain("parameter 'account' is empty");
  });

  it('requires a Vault address from url or VAULT_ADDR', async () => {
    const r = await run({ ...GOOD, url: '' });
    expect(r.output).toContain("parameter 'url' is empty and VAULT_ADDR is not set");
  });

  it('rejects a ca_certificate that is neither PEM nor base64 of PEM', async () => {
    const r = await run({ ...GOOD, ca_certificate: 'bm90IGEgY2VydA==' });
    expect(r.output).toContain("parameter 'ca_certificate' is invalid");
  });

  it('refuses a scope outside the enum at config compile time, like CircleCI', () => {
    expect(() => expandCommand(loadPackedOrb(), 'login', { role: 'r', scope: 'owner' })).toThrow(
      /scope must be one of read,write,admin,public_read/,
    );
    expect(() => expandCommand(loadPackedOrb(), 'login', {})).toThrow(/role is missing/);
  });
});
