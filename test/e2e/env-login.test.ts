// Self-test: the OIDC issuer and OpenBao's JWT auth are real — good tokens log in, bad ones get
// OpenBao's own 400 texts, and the runner ID-token endpoint behaves like GitHub's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnv, type TestEnv } from '../harness/index.js';

let env: TestEnv;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.stop();
});

interface LoginBody {
  auth: { client_token: string; policies: string[]; lease_duration: number };
  errors?: string[];
}

async function login(mount: string, role: string, jwt: string) {
  const r = await fetch(`${env.vaultAddr}/v1/auth/${mount}/login`, {
    method: 'POST',
    headers: { 'X-Vault-Request': 'true' },
    body: JSON.stringify({ role, jwt }),
  });
  return { status: r.status, body: (await r.json()) as LoginBody };
}

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString());
}

describe('JWT login against real OpenBao', () => {
  it('a GitHub-shaped token logs in and gets the role policy', async () => {
    const { status, body } = await login(
      'github',
      env.fixtures.github.role,
      env.issuer.githubToken(),
    );
    expect(status).toBe(200);
    expect(body.auth.policies).toEqual(['default', 'dockerhub-rw']);
    expect(body.auth.lease_duration).toBe(600);
    expect(await env.vaultTokenAlive(body.auth.client_token)).toBe(true);
    expect(env.secrets()).toContain(body.auth.client_token);
  });

  it.each([
    ['circleci v1', 'circleci', () => env.issuer.circleciToken(), () => env.fixtures.circleci.role],
    [
      'circleci v2',
      'circleci',
      () => env.issuer.circleciToken({ v2: true }),
      () => env.fixtures.circleci.roleCanRevoke,
    ],
    ['gitlab', 'gitlab', () => env.issuer.gitlabToken(), () => env.fixtures.gitlab.role],
    [
      'buildkite',
      'buildkite',
      () => env.issuer.buildkiteToken(),
      () => env.fixtures.buildkite.role,
    ],
  ])('a %s token logs in', async (_name, mount, token, role) => {
    const { status, body } = await login(mount, role(), token());
    expect(status).toBe(200);
    expect(body.auth.policies[1]).toMatch(/^dockerhub-rw/);
  });

  it('CircleCI tokens carry the real claim names; v2 adds vcs-origin/vcs-ref to sub', () => {
    const fx = env.fixtures.circleci;
    const v1 = claims(env.issuer.circleciToken());
    expect(v1.aud).toBe(fx.orgId);
    expect(v1['oidc.circleci.com/project-id']).toBe(fx.projectId);
    expect(v1.sub).toBe(`org/${fx.orgId}/project/${fx.projectId}/user/5005`);
    const v2 = claims(env.issuer.circleciToken({ v2: true }));
    expect(v2.sub).toMatch(/\/vcs-origin\/github\.com\/acme\/widgets\/vcs-ref\/refs\/heads\/main$/);
  });

  it.each([
    [
      'wrong audience',
      () => env.issuer.githubToken({ claims: { aud: 'someone-else' } }),
      'error validating token: invalid audience (aud) claim: audience claim does not match any expected audience',
    ],
    [
      'expired',
      () => env.issuer.githubToken({ expiresIn: -120 }),
      'error validating token: invalid expiration time (exp) claim: token is expired',
    ],
    [
      'bad signature',
      () => env.issuer.githubToken({ wrongKey: true }),
      'error validating token: error verifying token signature: failed to verify id token signature',
    ],
  ])('a token with %s gets OpenBao’s 400', async (_name, token, text) => {
    const { status, body } = await login('github', env.fixtures.github.role, token());
    expect(status).toBe(400);
    expect(body.errors).toEqual([text]);
  });

  it('an unknown role gets OpenBao’s 400', async () => {
    const { status, body } = await login('github', 'no-such-role', env.issuer.githubToken());
    expect(status).toBe(400);
    expect(body.errors).toEqual(['role "no-such-role" could not be found']);
  });

  it('a bound-claim mismatch gets OpenBao’s 400', async () => {
    const fx = env.fixtures.github;
    const { status, body } = await login('github', fx.roleOtherRef, env.issuer.githubToken());
    expect(status).toBe(400);
    expect(body.errors).toEqual([
      'error validating claims: claim "ref" does not match any associated bound claim values',
    ]);
  });
});

describe('GitHub runner ID-token endpoint', () => {
  const get = (url: string, bearer: string) =>
    fetch(url, { headers: { Authorization: `Bearer ${bearer}` } });

  it('answers {value} with aud = the audience parameter, and the token logs in', async () => {
    const { requestUrl, requestToken } = env.issuer.github;
    expect(new URL(requestUrl).searchParams.get('api-version')).toBe('2.0');
    const r = await get(
      `${requestUrl}&audience=${encodeURIComponent(env.fixtures.audience)}`,
      requestToken,
    );
    expect(r.status).toBe(200);
    const { value } = (await r.json()) as { value: string };
    expect(claims(value).aud).toBe(env.fixtures.audience);
    expect((await login('github', env.fixtures.github.role, value)).status).toBe(200);
  });

  it('defaults aud to https://github.com/<owner>', async () => {
    const r = await get(env.issuer.github.requestUrl, env.issuer.github.requestToken);
    const { value } = (await r.json()) as { value: string };
    expect(claims(value).aud).toBe(`https://github.com/${env.fixtures.github.owner}`);
    expect(claims(value).repository).toBe(env.fixtures.github.repository);
  });

  it('rejects a wrong bearer with 401', async () => {
    const r = await get(env.issuer.github.requestUrl, 'not-the-request-token');
    expect(r.status).toBe(401);
  });

  it('serves discovery and a JWKS with the signing kid', async () => {
    const d = (await (
      await fetch(`${env.issuer.url}/.well-known/openid-configuration`)
    ).json()) as {
      issuer: string;
      jwks_uri: string;
    };
    expect(d.issuer).toBe(env.issuer.url);
    const jwks = (await (await fetch(d.jwks_uri)).json()) as {
      keys: { kid: string; kty: string }[];
    };
    const header = JSON.parse(
      Buffer.from(env.issuer.githubToken().split('.')[0] ?? '', 'base64url').toString(),
    );
    expect(jwks.keys.map((k) => k.kid)).toEqual([header.kid]);
    expect(jwks.keys[0]?.kty).toBe('RSA');
  });
});
