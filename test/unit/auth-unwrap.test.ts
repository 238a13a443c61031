// unwrapOnce: look the wrapping token up, check where it was made, unwrap it once; every failure
// is reported as a possible interception, and nothing is retried.
import { describe, expect, it } from 'vitest';
import { unwrapOnce, WrappingError } from '../../src/auth/unwrap.js';
import { refused, type StubAnswer, vaultStub } from '../harness/vault-stub.js';

const EXPECTED = /^auth\/approle\/role\/[^/]+\/secret-id$/;
const made = (path: string): StubAnswer => ({
  status: 200,
  body: { data: { creation_path: path, creation_time: '2026-01-01T00:00:00Z', creation_ttl: 60 } },
});

/** A client that would retry twice: unwrapping must not. */
function vault(lookup: StubAnswer, unwrap: StubAnswer) {
  return vaultStub((r) => (r.path === 'sys/wrapping/lookup' ? lookup : unwrap), { retries: 2 });
}

async function failure(p: Promise<unknown>): Promise<WrappingError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WrappingError);
  return err as WrappingError;
}

describe('unwrapOnce', () => {
  it('looks up, then unwraps with the token in X-Vault-Token only, and returns the data', async () => {
    const s = vault(made('auth/approle/role/pull/secret-id'), {
      status: 200,
      body: { data: { secret_id: 'sid' } },
    });
    const data = await unwrapOnce(s.vault, 'hvs.wrap', EXPECTED, 'the secret_id', 'team');
    expect(data).toEqual({ secret_id: 'sid' });
    expect(s.requests.map((r) => r.path)).toEqual(['sys/wrapping/lookup', 'sys/wrapping/unwrap']);
    const [lookup, unwrap] = s.requests;
    expect(lookup?.body).toEqual({ token: 'hvs.wrap' });
    expect(unwrap?.headers['x-vault-token']).toBe('hvs.wrap');
    expect(unwrap?.body).toBeUndefined();
    expect(unwrap?.headers['x-vault-namespace']).toBe('team');
  });

  it('reports a used or expired token at lookup, and never unwraps', async () => {
    const s = vault(refused(400, 'wrapping token is not valid or does not exist'), made('x'));
    const err = await failure(unwrapOnce(s.vault, 'hvs.used', EXPECTED, 'the secret_id'));
    expect(err.message).toBe(
      'The response-wrapping token for the secret_id is already used, expired or not a wrapping token (wrapping token is not valid or does not exist).',
    );
    expect(err.hint).toMatch(/possible interception/);
    expect(s.requests).toHaveLength(1);
  });

  it('passes other lookup failures on as they are', async () => {
    const s = vault(refused(403, 'permission denied'), made('x'));
    const err = await unwrapOnce(s.vault, 'hvs.x', EXPECTED, 'the secret_id').catch((e) => e);
    expect(err).not.toBeInstanceOf(WrappingError);
    expect((err as { status: number }).status).toBe(403);
  });

  it.each([
    'cubbyhole/response',
    'sys/wrapping/wrap',
    'auth/approle/role/pull/secret-id/extra',
    'auth/other/role/pull/secret-id',
  ])('refuses a token made at %s, without unwrapping it', async (path) => {
    const s = vault(made(path), { status: 200, body: { data: {} } });
    const err = await failure(unwrapOnce(s.vault, 'hvs.x', EXPECTED, 'the secret_id'));
    expect(err.message).toContain(`was created at "${path}", not at the expected path`);
    expect(s.requests.map((r) => r.path)).toEqual(['sys/wrapping/lookup']);
  });

  it('reports a token used between lookup and unwrap as someone else’s use', async () => {
    const s = vault(
      made('auth/approle/role/pull/secret-id'),
      refused(400, 'wrapping token is not valid'),
    );
    const err = await failure(unwrapOnce(s.vault, 'hvs.x', EXPECTED, 'the secret_id'));
    expect(err.message).toBe(
      'The response-wrapping token for the secret_id was used by someone else between lookup and unwrap.',
    );
  });

  it('unwraps at most once: a 503 is not retried, and says the value may be gone', async () => {
    const s = vault(made('auth/approle/role/pull/secret-id'), refused(503, 'Vault is sealed'));
    const err = await failure(unwrapOnce(s.vault, 'hvs.x', EXPECTED, 'the secret_id'));
    expect(err.message).toMatch(/^Unwrapping the secret_id failed: /);
    expect(err.hint).toMatch(/deliver a new wrapped token/);
    expect(s.requests.filter((r) => r.path === 'sys/wrapping/unwrap')).toHaveLength(1);
  });

  it('refuses an answer without data', async () => {
    const s = vault(made('auth/approle/role/pull/secret-id'), { status: 200, body: {} });
    const err = await failure(unwrapOnce(s.vault, 'hvs.x', EXPECTED, 'the secret_id'));
    expect(err.message).toBe('The unwrapped answer for the secret_id carries no data.');
  });
});
