// The orb's login and logout against their floors, in the same job environment: a `run` step of
// bash that does the work by hand with curl (login, lease), `docker login`; and for logout,
// `docker logout` and the two revocations. Steps run interleaved, as CircleCI runs them.
import { mkdtempSync } from 'node:fs';
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
