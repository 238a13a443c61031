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

/** A 403 on `path`, explained with what the token's policies grant. */
const refused = (path: string, method: 'read' | 'write', grants?: string[]) =>
  explainIssue(
    new VaultHttpError(403, path, ['permission denied']),
    { ...cfg, source: { path, method } },
    grants,
  ) as VaultHttpError;

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
    ).toContain('Token aud: "theirs". The audience comes from the audience input.');
    const gitlab = explainLogin(
      new VaultHttpError(400, 'auth/jwt/login', ['invalid audience (aud) claim']),
      cfg,
      jwt,
      () => 'GitLab sets it in the job: id_tokens.VAULT_ID_TOKEN.aud.',
    ) as VaultHttpError;
    expect(gitlab.hint).toContain(
      'Token aud: "theirs". GitLab sets it in the job: id_tokens.VAULT_ID_TOKEN.aud.\nMake it one of the role\'s bound_audiences, or add "theirs" to them',
    );
  });
  it('a 403 at the login names the auth mount, or the /v1 the address ends in', () => {
    const denied = login('permission denied', 403);
    expect(denied.message).toBe(
      'Vault login failed: https://v.test refused auth/jwt/login (403 permission denied).',
    );
    expect(denied.hint).toContain(
      'No JWT auth method answers at auth/jwt: set the auth-mount input to the path where it is enabled (the default is jwt;',
    );
    expect(denied.hint).toContain('the url input must not include /v1');
    const v1 = explainLogin(
      new VaultHttpError(403, 'auth/jwt/login', ['permission denied']),
      { ...cfg, url: 'https://v.test/v1' },
      jwt,
    ) as VaultHttpError;
    expect(v1.hint).toBe(
      'The Vault address ends in /v1, so the login went to /v1/v1/auth/jwt/login: set the url input to the address without /v1.',
    );
  });
  it('an expired token says so, with when', () => {
    const old = `e30.${Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) - 600 })).toString('base64url')}.x`;
    const e = explainLogin(
      new VaultHttpError(400, 'auth/jwt/login', ['error validating claims: token is expired']),
      cfg,
      old,
    ) as VaultHttpError;
    expect(e.message).toMatch(
      /^Vault login failed: the identity token expired at \S+Z \(60\d s ago\)/,
    );
    expect(e.hint).toContain('obtain a fresh one right before logging in');
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
    const engineSays = (reason: string) =>
      (
        explainIssue(
          new VaultHttpError(500, 'x', [`1 error occurred:\n\t* ${reason}\n\n`]),
          cfg,
        ) as VaultHttpError
      ).message;
    expect(engineSays('unable to find configuration for "bot"')).toBe(
      'The Docker Hub engine at dockerhub/ has no account "bot" (nothing at dockerhub/config/bot).',
    );
    expect(engineSays('requested scope "admin" is not permitted for user "bot"')).toBe(
      'The Docker Hub engine at dockerhub/ does not allow scope "admin" for account "bot".',
    );
  });
  it('a 403 names what the policies do grant: another account, another mount', () => {
    const deny = (grants: string[]) => refused('dockerhub/token/bot/read', 'write', grants);
    expect(deny(['dockerhub/token/bot2/*']).hint).toContain(
      'They grant account(s) "bot2" on dockerhub/, not "bot": check the account input.',
    );
    expect(deny(['hub/token/bot/*']).hint).toContain(
      'They grant nothing under dockerhub/ but do under hub/: if the Docker Hub engine is mounted there, set the engine-mount input to it.',
    );
    expect(deny(['dockerhub/token/bot/write']).hint).toContain(
      'They grant account "bot" only for other scopes',
    );
    expect(deny([]).hint).toMatch(/^The role's policy must allow creating tokens there/);
  });
  it('a 403 on a KV read names the /data/ path', () => {
    const read = (path: string, grants?: string[]) => refused(path, 'read', grants);
    expect(read('secret/data/ci/registry', ['secret/ci/registry']).hint).toContain(
      'The policy names secret/ci/registry, the path "vault kv get" shows, but a KV v2 read needs the API path with /data/.',
    );
    expect(read('secret/data/ci/registry').hint).toContain('path "secret/data/ci/registry" {');
    expect(read('secret/ci/registry').hint).toContain(
      'If secret/ is a KV v2 mount, the path needs /data/ after the mount: secret/data/ci/registry',
    );
  });
});
