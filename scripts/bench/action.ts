// The Action's main and post steps against their floors, on one Node runtime. Each iteration runs,
// interleaved: an empty step (the runner starting that Node in the step's own environment), the
// real main and post, and the floor's work done by hand: the three HTTP exchanges (in this
// process), `docker login` and `docker logout` in the step's environment, the two revocations.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAction } from '../../test/harness/github-runner.js';
import type { SeenRequest, TestEnv } from '../../test/harness/types.js';
import { sameStart, startVars, timed } from './process.js';
import { add, type Series } from './stats.js';

export interface Runtime {
  name: string;
  bin: string;
}

export interface ActionFigures {
  runtime: string;
  main: Series;
  post: Series;
  floorMain: Series;
  floorPost: Series;
  /** Vault requests per step (max over runs). */
  requests: { main: number; post: number };
  startVars: Record<string, string>;
}

export const FLOOR_MAIN = ['node start (empty step)', 'three HTTP exchanges', 'docker login'];
export const FLOOR_POST = ['node start (empty step)', 'docker logout', 'two revoke exchanges'];
const WARMUP = 2;

/** The Action's inputs for a GitHub JWT login and a Docker Hub lease on the embedded services. */
export function actionInputs(env: TestEnv): Record<string, string> {
  const fx = env.fixtures;
  return {
    url: env.vaultAddr,
    'auth-mount': fx.githubMount,
    role: fx.github.role,
    audience: fx.audience,
    account: fx.account,
    registry: env.registry.host,
    // The login-mode step, as measured since the start (the helper mode: bench/credential-helper.ts).
    'credential-helper': 'false',
  };
}

/** A dist/ whose main and post do nothing: what the runner's Node start alone costs. */
function emptyDist(dir: string): string {
  for (const step of ['main', 'post']) {
    mkdirSync(join(dir, step), { recursive: true });
    writeFileSync(join(dir, step, 'index.js'), '');
    writeFileSync(join(dir, step, 'package.json'), '{ "type": "commonjs" }\n');
  }
  return dir;
}

const between = (log: SeenRequest[], from: number, to: number) =>
  log.filter((r) => r.at >= from && r.at <= to).sort((a, b) => a.at - b.at);

/** One Vault exchange by hand, for a floor. */
export async function vault(url: string, method: string, body?: unknown, token?: string) {
  const res = await fetch(url, {
    method,
    headers: {
      'Content-Type': 'application/json',
      'X-Vault-Request': 'true',
      ...(token ? { 'X-Vault-Token': token } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : {} };
}

export async function benchAction(env: TestEnv, rt: Runtime, runs: number): Promise<ActionFigures> {
  const fx = env.fixtures;
  const inputs = actionInputs(env);
  const empty = emptyDist(mkdtempSync(join(env.tmpDir, 'bench-empty-')));
  const f: ActionFigures = {
    runtime: rt.name,
    main: {},
    post: {},
    floorMain: {},
    floorPost: {},
    requests: { main: 0, post: 0 },
    startVars: {},
  };
  const leasePath = new RegExp(`^/v1/${fx.engineMount}/token/`);
  for (let i = 0; i < runs + WARMUP; i++) {
    const keep = i >= WARMUP;
    // The empty step, then the real one, in the same kind of environment.
    const bare = await runAction({ env, inputs, node: rt.bin, dist: empty });
    const t0 = Date.now();
    const real = await runAction({ env, inputs, node: rt.bin, post: false });
    const mainEnd = t0 + real.main.ms;
    const postStart = Date.now();
    const post = await real.runPost();
    const postEnd = Date.now();
    if (real.main.exitCode !== 0 || post.exitCode !== 0)
      throw new Error(`action run failed on ${rt.name}:\n${real.main.output}\n${post.output}`);
    sameStart(real.env, bare.env, `Action on ${rt.name}`);
    f.startVars = startVars(real.env);

    // The floor's work by hand: identity token, login, lease; docker login and logout; revokes.
    const h0 = performance.now();
    const id = await fetch(`${env.issuer.github.requestUrl}&audience=${fx.audience}`, {
      headers: { Authorization: `bearer ${env.issuer.github.requestToken}` },
    });
    const { value: jwt } = (await id.json()) as { value: string };
    const login = await vault(`${env.vaultAddr}/v1/auth/${fx.githubMount}/login`, 'POST', {
      role: fx.github.role,
      jwt,
    });
    const token = login.json.auth.client_token as string;
    const lease = await vault(
      `${env.vaultAddr}/v1/${fx.engineMount}/token/${fx.account}/read`,
      'POST',
      { label: 'bench-floor' },
      token,
    );
    const http = performance.now() - h0;
    const dockerEnv = { ...real.env, DOCKER_CONFIG: mkdtempSync(join(env.tmpDir, 'bench-dc-')) };
    const dl = await timed(
      'docker',
      ['login', '--username', lease.json.data.username, '--password-stdin', env.registry.host],
      dockerEnv,
      lease.json.data.token,
    );
    const dlo = await timed('docker', ['logout', env.registry.host], dockerEnv);
    const r0 = performance.now();
    await vault(
      `${env.vaultAddr}/v1/sys/leases/revoke`,
      'PUT',
      { lease_id: lease.json.lease_id },
      token,
    );
    await vault(`${env.vaultAddr}/v1/auth/token/revoke-self`, 'POST', undefined, token);
    const revokes = performance.now() - r0;
    if (!keep) continue;

    add(f.floorMain, 'node start (empty step)', bare.main.ms);
    add(f.floorMain, 'three HTTP exchanges', http);
    add(f.floorMain, 'docker login', dl);
    add(f.floorPost, 'node start (empty step)', bare.post?.ms ?? Number.NaN);
    add(f.floorPost, 'docker logout', dlo);
    add(f.floorPost, 'two revoke exchanges', revokes);

    add(f.main, 'total', real.main.ms);
    const vaultMain = between(env.engine.requests, t0, mainEnd);
    const idReq = between(env.issuer.requests, t0, mainEnd)[0];
    const loginReq = vaultMain.find((r) => /\/login$/.test(r.path));
    const leaseReq = vaultMain.find((r) => leasePath.test(r.path));
    if (idReq && loginReq && leaseReq) {
      add(f.main, 'process start + bundle load', idReq.at - t0);
      add(f.main, 'identity token', loginReq.at - idReq.at);
      add(f.main, 'Vault login', leaseReq.at - loginReq.at);
      const leased = leaseReq.doneAt ?? leaseReq.at;
      add(f.main, 'lease', leased - leaseReq.at);
      add(f.main, 'docker login + outputs + exit', mainEnd - leased);
    }
    add(f.post, 'total', post.ms);
    const vaultPost = between(env.engine.requests, postStart, postEnd);
    f.requests.main = Math.max(f.requests.main, vaultMain.length);
    f.requests.post = Math.max(f.requests.post, vaultPost.length);
  }
  return f;
}
