// A CI OIDC issuer: RS256 keys made at start, discovery + JWKS over HTTP, tokens shaped like the
// real CI systems' (claim names as documented), and the GitHub runner's ID-token endpoint.
import {
  createHash,
  createSign,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { applyFault, FaultList, record } from './faults.js';
import type {
  Fixtures,
  OidcIssuer,
  PublicIssuerKind,
  SeenRequest,
  ServiceAccountRef,
  TokenOptions,
} from './types.js';

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

interface Key {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function makeKey(): Key {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return {
    kid: createHash('sha256').update(der).digest('hex').slice(0, 16),
    privateKey,
    publicKey,
  };
}

export interface RunningIssuer extends OidcIssuer {
  minted(): string[];
  close(): Promise<void>;
}

export async function startIssuer(fx: Fixtures, port: number): Promise<RunningIssuer> {
  const key = makeKey();
  const otherKey = makeKey();
  const url = `http://127.0.0.1:${port}`;
  const requestToken = randomBytes(24).toString('base64url');
  const faults = new FaultList();
  const requests: SeenRequest[] = [];
  const minted: string[] = [];
  const overrides: Partial<Record<PublicIssuerKind, Record<string, unknown>>> = {};

  function sign(defaults: Record<string, unknown>, opts: TokenOptions = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (opts.expiresIn ?? 300);
    const claims: Record<string, unknown> = {
      jti: randomBytes(16).toString('hex'),
      iss: url,
      // An expired token was also issued in the past, as a real one would be.
      iat: Math.min(now, exp - 60),
      nbf: Math.min(now, exp - 60) - 5,
      exp,
      ...defaults,
    };
    for (const [k, v] of Object.entries(opts.claims ?? {})) {
      if (v === undefined) delete claims[k];
      else claims[k] = v;
    }
    const k = opts.wrongKey ? otherKey : key;
    // A wrong-key token names the real kid, as a forger would.
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.kid }));
    const body = b64url(JSON.stringify(claims));
    const sig = createSign('RSA-SHA256').update(`${header}.${body}`).sign(k.privateKey);
    const jwt = `${header}.${body}.${b64url(sig)}`;
    minted.push(jwt);
    return jwt;
  }

  const gh = fx.github;
  const sha = createHash('sha1').update('vdl').digest('hex');
  function githubToken(opts?: TokenOptions): string {
    return sign(
      {
        sub: `repo:${gh.repository}:ref:${gh.ref}`,
        aud: fx.audience,
        ref: gh.ref,
        ref_type: 'branch',
        ref_protected: 'true',
        sha,
        repository: gh.repository,
        repository_owner: gh.owner,
        repository_owner_id: '1001',
        repository_id: '2002',
        repository_visibility: 'private',
        run_id: '3003',
        run_number: '7',
        run_attempt: '1',
        actor: 'octocat',
        actor_id: '4004',
        workflow: 'ci',
        workflow_ref: `${gh.repository}/.github/workflows/ci.yml@${gh.ref}`,
        workflow_sha: sha,
        job_workflow_ref: `${gh.repository}/.github/workflows/ci.yml@${gh.ref}`,
        job_workflow_sha: sha,
        event_name: 'push',
        head_ref: '',
        base_ref: '',
        runner_environment: 'github-hosted',
        ...overrides.github,
      },
      opts,
    );
  }

  const cc = fx.circleci;
  function circleciToken(opts?: TokenOptions & { v2?: boolean }): string {
    const base = `org/${cc.orgId}/project/${cc.projectId}/user/5005`;
    return sign(
      {
        sub: opts?.v2 ? `${base}/vcs-origin/github.com/${gh.repository}/vcs-ref/${gh.ref}` : base,
        // CircleCI's default audience is the organization id.
        aud: cc.orgId,
        'oidc.circleci.com/org-id': cc.orgId,
        'oidc.circleci.com/project-id': cc.projectId,
        'oidc.circleci.com/context-ids': [],
        'oidc.circleci.com/vcs-origin': `github.com/${gh.repository}`,
        'oidc.circleci.com/vcs-ref': gh.ref,
        'oidc.circleci.com/ssh-rerun': false,
        ...overrides.circleci,
      },
      opts,
    );
  }

  const gl = fx.gitlab;
  function gitlabToken(opts?: TokenOptions): string {
    const [group] = gl.projectPath.split('/');
    return sign(
      {
        sub: `project_path:${gl.projectPath}:ref_type:branch:ref:main`,
        aud: fx.audience,
        namespace_id: '61',
        namespace_path: group,
        project_id: '62',
        project_path: gl.projectPath,
        user_id: '63',
        user_login: 'gitlab-user',
        user_email: 'gitlab-user@example.invalid',
        pipeline_id: '64',
        pipeline_source: 'push',
        job_id: '65',
        ref: 'main',
        ref_type: 'branch',
        ref_path: 'refs/heads/main',
        ref_protected: 'true',
        runner_id: 66,
        runner_environment: 'gitlab-hosted',
        sha,
        ...overrides.gitlab,
      },
      opts,
    );
  }

  const bk = fx.buildkite;
  function buildkiteToken(opts?: TokenOptions): string {
    return sign(
      {
        sub: `organization:${bk.organization}:pipeline:${bk.pipeline}:ref:refs/heads/main:commit:${sha}:step:build`,
        aud: fx.audience,
        organization_slug: bk.organization,
        pipeline_slug: bk.pipeline,
        build_number: 71,
        build_branch: 'main',
        build_tag: null,
        build_commit: sha,
        step_key: 'build',
        job_id: '0190-aaaa',
        agent_id: '0190-bbbb',
        build_source: 'ui',
        runner_environment: 'buildkite-hosted',
        ...overrides.buildkite,
      },
      opts,
    );
  }

  // A projected service account token as the API server issues it (what KEP-4412 hands a
  // kubelet credential provider): sub system:serviceaccount:<ns>:<name>, claims under kubernetes.io.
  function kubernetesToken(sa: ServiceAccountRef, opts?: TokenOptions): string {
    const uid = (s: string) =>
      createHash('sha1')
        .update(s)
        .digest('hex')
        .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/, '$1-$2-$3-$4-$5');
    const pod = sa.pod ?? `${sa.serviceAccount}-pod`;
    return sign(
      {
        aud: [sa.audience],
        sub: `system:serviceaccount:${sa.namespace}:${sa.serviceAccount}`,
        'kubernetes.io': {
          namespace: sa.namespace,
          node: { name: 'node-1', uid: uid('node-1') },
          pod: { name: pod, uid: uid(`${sa.namespace}/${pod}`) },
          serviceaccount: {
            name: sa.serviceAccount,
            uid: uid(`${sa.namespace}/${sa.serviceAccount}`),
          },
        },
      },
      opts,
    );
  }

  const jwk = {
    ...key.publicKey.export({ format: 'jwk' }),
    kid: key.kid,
    use: 'sig',
    alg: 'RS256',
  };
  const idTokenPath = '/_apis/idtoken';

  const server: Server = createServer(async (req, res) => {
    record(requests, req, res);
    const u = new URL(req.url ?? '/', url);
    if (await applyFault(faults.take(req.method ?? 'GET', u.pathname), req, res)) return;
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    if (u.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer: url,
        jwks_uri: `${url}/jwks`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'ref', 'repository'],
      });
    }
    if (u.pathname === '/jwks') return json(200, { keys: [jwk] });
    if (u.pathname === idTokenPath) {
      const auth = req.headers.authorization ?? '';
      if (!/^bearer /i.test(auth) || auth.slice(7) !== requestToken) {
        return json(401, { message: 'Unauthorized' });
      }
      const aud = u.searchParams.get('audience') || `https://github.com/${gh.owner}`;
      return json(200, { count: 1, value: githubToken({ claims: { aud } }) });
    }
    json(404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

  return {
    url,
    githubToken,
    circleciToken,
    gitlabToken,
    buildkiteToken,
    kubernetesToken,
    setClaims(kind, claims) {
      overrides[kind] = { ...overrides[kind], ...claims };
    },
    github: { requestUrl: `${url}${idTokenPath}?api-version=2.0`, requestToken },
    faults,
    requests,
    minted: () => [...minted, requestToken],
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
