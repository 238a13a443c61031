import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { dockerAuthString, toCredential } from '../../src/core/credential.js';
import { VaultHttpError } from '../../src/core/errors.js';
import { explainIssue, explainLogin, unwrapMultierror } from '../../src/core/explain.js';

const cfg = parseConfig({ url: 'https://v.test', role: 'ci', account: 'bot', audience: 'mine' });
const jwt = `e30.${Buffer.from(JSON.stringify({ aud: 'theirs', repository: 'o/r', ref: 'refs/heads/x' })).toString('base64url')}.sig`;

describe('credential mapping', () => {
  it('maps the Docker Hub engine answer with its lease', () => {
    const c = toCredential(
      {
        lease_id: 'dockerhub/token/bot/read/abc',
        lease_duration: 300,
        data: { token: 't', uuid: 'u', username: 'bot', scope: 'read' },
      },
      0,
    );
    expect(c).toEqual({
      username: 'bot',
      secret: 't',
      leaseId: 'dockerhub/token/bot/read/abc',
      leaseDuration: 300,
      expiresAt: new Date(300_000).toISOString(),
    });
    expect(dockerAuthString(c)).toBe(Buffer.from('bot:t').toString('base64'));
  });

  it('detects KV v2 fields and has no lease for a static secret', () => {
    const c = toCredential(
      { lease_duration: 0, data: { data: { username: 'u', password: 'p' }, metadata: {} } },
      0,
    );
    expect(c).toMatchObject({
      username: 'u',
      secret: 'p',
      leaseId: undefined,
      expiresAt: undefined,
    });
  });

  it('lists field names, never values, when a field is missing', () => {
    expect(() => toCredential({ data: { user: 'u', token: 'hunter2' } }, 0)).toThrow(
      /fields present: user, token\./,
    );
    expect(() => toCredential({ data: { user: 'u', token: 'hunter2' } }, 0)).not.toThrow(/hunter2/);
  });
});

describe('error explanations', () => {
  const login = (msg: string, status = 400) =>
    explainLogin(new VaultHttpError(status, 'auth/jwt/login', [msg]), cfg, jwt) as VaultHttpError;

  it('role not found', () => {
    expect(login('role "ci" could not be found').message).toContain(
      'role "ci" does not exist on auth mount "jwt"',
    );
  });
  it('audience mismatch shows token aud and the input', () => {
    expect(
      login(
        'error validating token: invalid audience (aud) claim: audience claim does not match any expected audience',
      ).hint,
    ).toContain('Token aud: "theirs"; audience input: "mine"');
  });
  it('bound claims show the claims', () => {
    const e = login(
      'error validating claims: claim "ref" does not match any associated bound claim values',
    );
    expect(e.hint).toContain('repository: "o/r"');
    expect(e.hint).toContain('ref: "refs/heads/x"');
  });
  it('unwraps multierror text and explains a 403 on the engine path', () => {
    expect(
      unwrapMultierror(
        '1 error occurred:\n\t* requested scope "admin" is not permitted for user "u"\n\n',
      ),
    ).toBe('requested scope "admin" is not permitted for user "u"');
    const denied = explainIssue(
      new VaultHttpError(403, 'x', ['permission denied']),
      cfg,
    ) as VaultHttpError;
    expect(denied.hint).toContain(
      'path "dockerhub/token/bot/read" {\n    capabilities = ["create", "update"]',
    );
    const unknown = explainIssue(
      new VaultHttpError(500, 'x', [
        '1 error occurred:\n\t* unable to find configuration for "bot"\n\n',
      ]),
      cfg,
    ) as VaultHttpError;
    expect(unknown.message).toBe(
      'The secrets engine refused dockerhub/token/bot/read: unable to find configuration for "bot"',
    );
  });
});
