// Every input with bad values, through dist main as the runner passes them: each is refused
// before any network call, with a message naming the input and the accepted form.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnv } from '../harness/index.js';
import type { TestEnv } from '../harness/types.js';
import { actionJob, baseInputs } from './action-hardening-job.js';
import { expectNothingAlive } from './expect-clean.js';

let env: TestEnv;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  expectNothingAlive(env);
  await env?.stop();
});

const PATH_FORM = 'expected letters, digits and . _ - @ : segments joined by single "/"';
const SINGLE = 'must be a single name without "/"';
const URL_FORM = 'must be an http(s) URL such as https://vault.example.com';
const BOOL = 'must be true or false';
const PEM = 'must be a PEM block (-----BEGIN ...) or its base64 encoding';

/** Bad values that break a Vault path: traversal, leading "/", "?", "#", whitespace, controls. */
const pathBad = (ok: string) => [
  `../${ok}`,
  `${ok}/..`,
  `/${ok}`,
  `${ok}?x=1`,
  `${ok}#frag`,
  `${ok} x`,
  `${ok}\tx`,
  `${ok}\nx`,
  `${ok}\u0001x`,
  `${ok}\u001bx`,
  `${ok}\u007fx`,
];

type Case = [input: string, value: string, form: string, extra?: Record<string, string>];
const CASES: Case[] = [
  ['url', 'ftp://vault.example.com', URL_FORM],
  ['url', 'vault.example.com', URL_FORM],
  ['url', 'javascript:alert(1)', URL_FORM],
  ['url', 'http://user:pw@127.0.0.1:8200', 'must not carry a query, fragment or credentials'],
  ['url', 'http://127.0.0.1:8200/?x=1', 'must not carry a query, fragment or credentials'],
  ['url', 'http://127.0.0.1:8200/#x', 'must not carry a query, fragment or credentials'],
  ...pathBad('ci').map((v): Case => ['namespace', v, PATH_FORM]),
  ['namespace', 'ci//team', 'must not have empty segments'],
  ...pathBad('ci').map((v): Case => ['auth-namespace', v, PATH_FORM]),
  ...pathBad('github').map((v): Case => ['auth-mount', v, PATH_FORM]),
  ...pathBad('ci').map((v): Case => ['role', v, PATH_FORM]),
  ['role', 'team/ci', SINGLE],
  ...pathBad('dockerhub').map((v): Case => ['engine-mount', v, PATH_FORM]),
  ...pathBad('acmebot').map((v): Case => ['account', v, PATH_FORM]),
  ['account', 'acme/bot', SINGLE],
  ['scope', 'superuser', 'must be one of read, write, admin, public_read'],
  ['scope', 'READ', 'must be one of read, write, admin, public_read'],
  ['scope', 'read write', 'must be one of read, write, admin, public_read'],
  ['scope', '../admin', 'must be one of read, write, admin, public_read'],
  ...pathBad('secret/data/ci').map((v): Case => ['secret-path', v, PATH_FORM]),
  ['secret-path', 'secret//ci', 'must not have empty segments'],
  ['secret-path', 'secret/ci/', 'must not have empty segments'],
  ['secret-method', 'delete', 'must be read or write'],
  ['secret-body', 'label=x', 'must be a JSON object such as {"ttl": "1h"}'],
  ['secret-body', '["x"]', 'must be a JSON object such as {"ttl": "1h"}'],
  ['username-field', 'user name', 'must be a field name of the secret'],
  ['password-field', 'data.password', 'must be a field name of the secret'],
  ['registries', '- registry: [unclosed', 'is not valid YAML'],
  ['registries', '[]', 'with at least one entry', { registry: '', account: '' }],
  [
    'registries',
    '- registry: ghcr.io\n  secret_path: /secret/x',
    PATH_FORM,
    { registry: '', account: '' },
  ],
  [
    'registries',
    '- registry: ghcr.io\n  secret_path: secret/x',
    'replaces registry, account, which are set too',
  ],
  ['label', 'x'.repeat(101), 'must be at most 100 characters; got 101'],
  ['label', 'run\u0001x', 'must not contain control characters'],
  ['label', 'run\nx', 'must not contain control characters'],
  [
    'registry',
    'https://user:pw@ghcr.io',
    'must be a registry host such as ghcr.io or 127.0.0.1:5000',
  ],
  ['registry', 'ghcr.io/?x', 'must be a registry host such as ghcr.io or 127.0.0.1:5000'],
  ['registry', 'gh cr.io', 'must be a registry host such as ghcr.io or 127.0.0.1:5000'],
  ['logout', 'maybe', BOOL],
  ['revoke', 'nah', BOOL],
  ['tls-skip-verify', 'sure', BOOL],
  ['timeout', 'soon', 'must be a whole number from 1 to 3600'],
  ['timeout', '0', 'must be a whole number from 1 to 3600'],
  ['timeout', '3601', 'must be a whole number from 1 to 3600'],
  ['timeout', '1.5', 'must be a whole number from 1 to 3600'],
  ['timeout', '-5', 'must be a whole number from 1 to 3600'],
  ['retries', '-1', 'must be a whole number from 0 to 10'],
  ['retries', '11', 'must be a whole number from 0 to 10'],
  ['retries', 'two', 'must be a whole number from 0 to 10'],
  ['retries', '2 retries', 'must be a whole number from 0 to 10'],
  ['retries', '0x2', 'must be a whole number from 0 to 10'],
  ['timeout', '1e1', 'must be a whole number from 1 to 3600'],
  ['ca-certificate', 'not a certificate', PEM],
  ['ca-certificate', Buffer.from('not a pem either').toString('base64'), PEM],
  ['client-certificate', 'bm90IGEgcGVt', PEM],
  ['client-key', 'bm90IGEgcGVt', PEM],
  [
    'client-certificate',
    '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----',
    'and client-key must be given together',
  ],
];

describe('input validation, before any network call', () => {
  it(`covers ${CASES.length} bad values over every validated input`, () => {
    const validated = new Set(CASES.map((c) => c[0]));
    // audience is free text sent URL-encoded; it has no form to check.
    expect(validated.size).toBe(24);
  });

  it.each(CASES)(
    '%s = %j is refused, naming the input and the accepted form',
    async (input, value, form, extra) => {
      const engineFrom = env.engine.requests.length;
      const issuerFrom = env.issuer.requests.length;
      const job = await actionJob(env, {
        inputs: { ...baseInputs(env), [input]: value, ...extra },
      });
      expect(job.run.main.exitCode).toBe(1);
      expect(job.error.startsWith(`Input "${input}`), job.error).toBe(true);
      expect(job.error).toContain(form);
      expect(env.engine.requests.length).toBe(engineFrom);
      expect(env.issuer.requests.length).toBe(issuerFrom);
      expect(job.run.post?.exitCode).toBe(0);
      expect(job.run.post?.output).toContain('Nothing to clean up');
      // The bad value is echoed at most on the one ::error:: line, never into the runner files.
      expect(job.run.main.files.output).toBe('');
    },
  );
});
