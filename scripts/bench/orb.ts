// The orb's login and logout against their floors, in the same job environment: a `run` step of
// bash that does the work by hand with curl (login, lease), `docker login`; and for logout,
// `docker logout` and the two revocations. Steps run interleaved, as CircleCI runs them.
// Then its bash credential helper: a cached get against a bash start plus `curl --version`.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runJob } from '../../test/harness/circleci-runner.js';
import type { TestEnv } from '../../test/harness/types.js';
import { add, type Series } from './stats.js';

export interface OrbFigures {
  login: Series;
  logout: Series;
  floorLogin: Series;
  floorLogout: Series;
  requests: { login: number; logout: number };
}

const WARMUP = 2;

// No secret in argv: bodies and headers go to curl on stdin.
const FLOOR_LOGIN = `
body=$(printf '{"role":"%s","jwt":"%s"}' "$FLOOR_ROLE" "$CIRCLE_OIDC_TOKEN_V2")
ans=$(printf '%s' "$body" | curl -sf -H 'X-Vault-Request: true' --data-binary @- "$FLOOR_VAULT/v1/auth/$FLOOR_MOUNT/login")
[[ $ans =~ \\"client_token\\":\\"([^\\"]+)\\" ]] && tok=\${BASH_REMATCH[1]}
ans=$(printf 'X-Vault-Token: %s\\n' "$tok" | curl -sf -H @- -H 'X-Vault-Request: true' --data '{"label":"floor"}' "$FLOOR_VAULT/v1/$FLOOR_PATH")
[[ $ans =~ \\"token\\":\\"([^\\"]+)\\" ]] && secret=\${BASH_REMATCH[1]}
[[ $ans =~ \\"username\\":\\"([^\\"]+)\\" ]] && user=\${BASH_REMATCH[1]}
[[ $ans =~ \\"lease_id\\":\\"([^\\"]+)\\" ]] && printf '%s' "\${BASH_REMATCH[1]}" > "$HOME/floor-lease"
printf '%s' "$tok" > "$HOME/floor-token"
printf '%s' "$secret" | docker login --username "$user" --password-stdin "$FLOOR_REGISTRY" > /dev/null
`;
const FLOOR_LOGOUT = `
docker logout "$FLOOR_REGISTRY" > /dev/null
printf 'X-Vault-Token: %s\\n' "$(cat "$HOME/floor-token")" | curl -s -o /dev/null -H @- -H 'X-Vault-Request: true' -X PUT --data "{\\"lease_id\\":\\"$(cat "$HOME/floor-lease")\\"}" "$FLOOR_VAULT/v1/sys/leases/revoke"
printf 'X-Vault-Token: %s\\n' "$(cat "$HOME/floor-token")" | curl -sf -o /dev/null -H @- -H 'X-Vault-Request: true' -X POST "$FLOOR_VAULT/v1/auth/token/revoke-self"
`;

export async function benchOrb(env: TestEnv, runs: number): Promise<OrbFigures> {
  const fx = env.fixtures;
  const f: OrbFigures = {
    login: {},
    logout: {},
    floorLogin: {},
    floorLogout: {},
    requests: { login: 0, logout: 0 },
  };
  const floorEnv = {
    FLOOR_VAULT: env.vaultAddr,
    FLOOR_MOUNT: fx.circleciMount,
    FLOOR_ROLE: fx.circleci.role,
    FLOOR_PATH: `${fx.engineMount}/token/${fx.account}/read`,
    FLOOR_REGISTRY: env.registry.host,
  };
  for (let i = 0; i < runs + WARMUP; i++) {
    const t0 = Date.now();
    const r = await runJob({
      dir: mkdtempSync(join(env.tmpDir, 'bench-orb-')),
      steps: [
        {
          orb: 'login',
          parameters: {
            credential_helper: false,
            url: env.vaultAddr,
            auth_mount: fx.circleciMount,
            role: fx.circleci.role,
            account: fx.account,
            registry: env.registry.host,
          },
        },
        { orb: 'logout' },
        { run: FLOOR_LOGIN, name: 'floor login', environment: floorEnv },
        { run: FLOOR_LOGOUT, name: 'floor logout', environment: floorEnv },
      ],
      env: { CIRCLE_OIDC_TOKEN_V2: env.issuer.circleciToken({ v2: true }) },
    });
    if (!r.success) throw new Error(`orb job failed:\n${r.output}`);
    if (i < WARMUP) continue;
    const [login, logout, floorLogin, floorLogout] = r.steps;
    add(f.login, 'total', login?.durationMs ?? Number.NaN);
    add(f.logout, 'total', logout?.durationMs ?? Number.NaN);
    add(
      f.floorLogin,
      'bash + curl login, lease + docker login',
      floorLogin?.durationMs ?? Number.NaN,
    );
    add(f.floorLogout, 'bash + docker logout + two revokes', floorLogout?.durationMs ?? Number.NaN);
    const loginEnd = t0 + (login?.durationMs ?? 0);
    const logoutEnd = loginEnd + (logout?.durationMs ?? 0);
    const inLogin = env.engine.requests.filter((q) => q.at >= t0 && q.at <= loginEnd);
    const inLogout = env.engine.requests.filter((q) => q.at > loginEnd && q.at <= logoutEnd);
    f.requests.login = Math.max(f.requests.login, inLogin.length);
    f.requests.logout = Math.max(f.requests.logout, inLogout.length);
  }
  return f;
}

export interface OrbHelperFigures {
  /** A `get` served from the bash helper's cache, and its floor's parts, interleaved. */
  cached: Series;
  /** A `get` that leases (cache emptied first): the cost of a re-lease. */
  release: Series;
  /** A job of `operations` gets spread over 3 lease TTLs of `ttl` s: the Vault requests it made. */
  job: { operations: number; ttl: number; requests: Record<string, number>; seconds: number };
}

const HELPER_OPERATIONS = 50;
const HELPER_TTL = 4;

/** Wall time of `file args` with `input` on stdin; rejects on a non-zero exit. */
function timedRun(file: string, args: string[], input: string, env: NodeJS.ProcessEnv) {
  const t0 = performance.now();
  return new Promise<number>((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: [input ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (b: Buffer) => {
      err += b;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(performance.now() - t0)
        : reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${err.trim()}`)),
    );
    child.stdin?.end(input);
  });
}

/**
 * The orb's bash credential helper (credential_helper: true): a cached `get` against one bash
 * start plus one `curl --version` (the floor: what any bash + curl step pays), a re-lease, and
 * the Vault requests of a job of 50 docker operations over 3 lease TTLs.
 */
export async function benchOrbHelper(env: TestEnv, runs: number): Promise<OrbHelperFigures> {
  const fx = env.fixtures;
  const dir = mkdtempSync(join(env.tmpDir, 'bench-orb-helper-'));
  const jobId = 'bench-orb-helper';
  const login = await runJob({
    dir,
    steps: [
      {
        orb: 'login',
        parameters: {
          url: env.vaultAddr,
          auth_mount: fx.circleciMount,
          role: fx.circleci.role,
          account: fx.account,
          registry: env.registry.host,
          credential_helper: true,
        },
      },
    ],
    env: {
      CIRCLE_OIDC_TOKEN_V2: env.issuer.circleciToken({ v2: true }),
      CIRCLE_WORKFLOW_JOB_ID: jobId,
    },
  });
  if (!login.success) throw new Error(`orb helper login failed:\n${login.output}`);
  const helperDir = /export DOCKER_CONFIG=(\S+)/.exec(login.bashEnv)?.[1] ?? '';
  const bin = join(helperDir, 'bin', 'docker-credential-vault');
  const hostEnv = { PATH: process.env.PATH, HOME: join(dir, 'home') };
  const get = () => timedRun(bin, ['get'], env.registry.host, hostEnv);
  const emptyCache = () => writeFileSync(join(helperDir, 'cache', '0'), '');
  const f: OrbHelperFigures = {
    cached: {},
    release: {},
    job: { operations: HELPER_OPERATIONS, ttl: HELPER_TTL, requests: {}, seconds: 0 },
  };
  let loggedOut = '';
  try {
    await get();
    for (let i = 0; i < runs + WARMUP; i++) {
      const [cached, bash, curl] = [
        await get(),
        await timedRun('bash', ['-c', ':'], '', hostEnv),
        await timedRun('curl', ['--version'], '', hostEnv),
      ];
      emptyCache();
      const lease = await get();
      if (i < WARMUP) continue;
      add(f.cached, 'get, cached', cached);
      add(f.cached, 'bash start', bash);
      add(f.cached, 'curl --version', curl);
      add(f.release, 'get, re-lease (one Vault request)', lease);
    }

    // 50 docker operations evenly over 3 TTLs, every one a `get` as docker makes it.
    env.engine.setLeaseTtl(HELPER_TTL);
    emptyCache();
    const since = env.engine.requests.length;
    const t0 = Date.now();
    const gap = (3 * HELPER_TTL * 1000) / HELPER_OPERATIONS;
    for (let i = 0; i < HELPER_OPERATIONS; i++) {
      const wait = t0 + i * gap - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await get();
    }
    f.job.seconds = (Date.now() - t0) / 1000;
    for (const q of env.engine.requests.slice(since)) {
      const key = q.path.startsWith(`/v1/${fx.engineMount}/token/`) ? 'lease' : q.path.slice(4);
      f.job.requests[key] = (f.job.requests[key] ?? 0) + 1;
    }
  } finally {
    env.engine.setLeaseTtl(300);
    const out = await runJob({
      dir,
      steps: [{ orb: 'logout' }],
      env: { CIRCLE_WORKFLOW_JOB_ID: jobId },
      resume: true,
    });
    loggedOut = out.success ? '' : out.output;
  }
  if (loggedOut) throw new Error(`orb helper logout failed:\n${loggedOut}`);
  return f;
}
