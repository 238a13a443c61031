// One job per entry point against an HaEnv, each timed and judged the same way: the Action (main,
// then post), a CLI login then logout, a credential helper get (then erase) on a host of its
// own, a kubelet provider run for a pod's service account. Shared by the HA test and
// `npm run reliability`.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { runJob } from './circleci-runner.js';
import { HELPER_BIN } from './credential-helper.js';
import { type ActionRun, runAction } from './github-runner.js';
import type { HaEnv } from './ha-env.js';
import { runProvider, writeProviderConfig } from './kubelet-provider.js';
import { KUBE_MOUNT, kubernetesAuth } from './kubernetes-auth.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'index.js');

export type JobKind = 'action' | 'orb' | 'cli' | 'helper' | 'provider';

export interface JobResult {
  kind: JobKind;
  /** The login part (main, login, get, provider run) exited 0. */
  ok: boolean;
  /** Its wall time. */
  ms: number;
  /** Retries it announced ("Retrying ..." lines; the helper and the provider announce none). */
  retries: number;
  /** Of those, waits for a leader election (not counted against the retries setting). */
  electionWaits: number;
  /** The last line it printed on failure (the message a user sees). */
  message: string;
  /** The cleanup part (post, logout, erase) exited 0; undefined where there is none. */
  cleanupOk?: boolean;
  cleanupMs?: number;
  cleanupMessage?: string;
  /** Everything it printed, for the leak scan (a helper's or provider's stdout answer excluded). */
  printed: string;
}

export interface JobOptions {
  /** The Vault address the job is configured with (default env.vaultAddr). */
  url?: string;
  /** Run the cleanup part right after (default true). */
  cleanup?: boolean;
  /** Seconds for the timeout setting (default: the entry point's). */
  timeout?: number;
  /**
   * Where the credential comes from: the Docker Hub engine (a lease; only through the engine
   * stand-in) or the static KV v2 secret (no lease; works at any node's own address).
   */
  source?: 'engine' | 'kv';
}

/** Service accounts the provider jobs run as: `ha/sa-<i>`, role `ha-sa-<i>`. */
export const SERVICE_ACCOUNTS = 20;

const lastLines = (text: string, n: number) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' ');
const lastLine = (text: string) => lastLines(text, 1);
/** From the last line starting with `prefix` to the end, on one line. */
const fromLast = (text: string, prefix: string) => {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines
    .slice(
      Math.max(
        0,
        lines.findLastIndex((l) => l.startsWith(prefix)),
      ),
    )
    .join(' ');
};
const retriesIn = (text: string) => (text.match(/Retrying /g) ?? []).length;
const orbRetriesIn = (text: string) => (text.match(/; retrying/g) ?? []).length;
const electionWaitsIn = (text: string) =>
  (text.match(/no active node \(a leader election\)/g) ?? []).length;

function node(
  args: string[],
  env: Record<string, string | undefined>,
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', reject);
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
    child.on('close', (code) =>
      resolve({ code: code ?? 1, stdout, stderr, ms: performance.now() - t0 }),
    );
  });
}

export interface Jobs {
  action(o?: JobOptions): Promise<JobResult & { run: ActionRun }>;
  /** The packed orb's login, then its logout, in one CircleCI job. */
  orb(o?: JobOptions): Promise<JobResult>;
  cli(o?: JobOptions): Promise<JobResult>;
  helper(o?: JobOptions): Promise<JobResult>;
  /** A provider run for service account `i % SERVICE_ACCOUNTS`. */
  provider(i: number, o?: JobOptions): Promise<JobResult>;
  /** Everything every job printed so far, for the leak scan. */
  printed(): string;
}

/** Writes what the jobs need (JWT files, configs, the provider's roles) once. */
export async function prepareJobs(env: HaEnv): Promise<Jobs> {
  const fx = env.fixtures;
  const dir = join(env.tmpDir, 'jobs');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let n = 0;
  const enginePath = `${fx.engineMount}/token/${fx.account}/read`;
  const kvPath = `${fx.kvMount}/data/${fx.kvPath}`;
  const pathOf = (o: JobOptions) => (o.source === 'kv' ? kvPath : enginePath);
  // Through the active node: a standby may not see a mount written a moment ago (read-after-write).
  const active = await env.cluster.active();
  await kubernetesAuth(
    { ...env, baoAddr: active.addr },
    Array.from({ length: SERVICE_ACCOUNTS }, (_, i) => ({
      name: `ha-sa-${i}`,
      namespace: 'ha',
      serviceAccount: `sa-${i}`,
      paths: [enginePath, kvPath],
    })),
  );
  const jwtFile = () => {
    const f = join(dir, `jwt-${++n}`);
    writeFileSync(f, env.issuer.githubToken({ expiresIn: 900 }), { mode: 0o600 });
    return f;
  };
  const providerConfig = (url: string, o: JobOptions) =>
    writeProviderConfig(dir, {
      vault: { url, ...(o.timeout && { timeout: o.timeout }) },
      auth: { method: 'jwt', mount: KUBE_MOUNT, role: 'ha-sa-0' },
      registries: [{ registry: env.registry.host, secret_path: pathOf(o) }],
    });
  const providerConfigs = new Map<string, string>();
  // Read at scan time: an Action's post may run later (ActionRun.everything grows).
  const printed: (() => string)[] = [];
  const kept = <R extends JobResult>(r: R, live?: () => string) => {
    printed.push(live ?? (() => r.printed));
    return r;
  };

  return {
    printed: () => printed.map((p) => p()).join('\n'),
    async action(o = {}) {
      const run = await runAction({
        env,
        inputs: {
          url: o.url ?? env.vaultAddr,
          'auth-mount': fx.githubMount,
          role: fx.github.role,
          audience: fx.audience,
          ...(o.source === 'kv' ? { 'secret-path': kvPath } : { account: fx.account }),
          registry: env.registry.host,
          ...(o.timeout && { timeout: String(o.timeout) }),
          // The single login and its post: the figures in docs/reliability.md were measured so.
          'credential-helper': 'false',
        },
        post: o.cleanup !== false,
      });
      const { main, post } = run;
      return kept(
        {
          kind: 'action',
          ok: main.exitCode === 0,
          ms: main.ms,
          retries: retriesIn(main.output) + retriesIn(post?.output ?? ''),
          electionWaits: electionWaitsIn(main.output) + electionWaitsIn(post?.output ?? ''),
          message: main.exitCode === 0 ? '' : lastLine(main.output),
          ...(post && {
            cleanupOk: post.exitCode === 0,
            cleanupMs: post.ms,
            cleanupMessage: post.exitCode === 0 ? '' : lastLine(post.output),
          }),
          printed: run.everything,
          run,
        },
        () => run.everything,
      );
    },

    async orb(o = {}) {
      const job = join(dir, `orb-${++n}`);
      const jobEnv = {
        CIRCLE_OIDC_TOKEN_V2: env.issuer.circleciToken({ v2: true }),
        CIRCLE_WORKFLOW_JOB_ID: `job-${n}`,
      };
      const login = await runJob({
        dir: job,
        env: jobEnv,
        steps: [
          {
            orb: 'login',
            parameters: {
              url: o.url ?? env.vaultAddr,
              auth_mount: fx.circleciMount,
              role: fx.circleci.role,
              ...(o.source === 'kv' ? { secret_path: kvPath } : { account: fx.account }),
              registry: env.registry.host,
              ...(o.timeout && { timeout: o.timeout }),
            },
          },
        ],
      });
      const logout =
        o.cleanup === false
          ? undefined
          : await runJob({ dir: job, env: jobEnv, steps: [{ orb: 'logout' }] });
      const ms = login.steps.reduce((a, st) => a + st.durationMs, 0);
      const out = `${login.output}\n${logout?.output ?? ''}`;
      return kept({
        kind: 'orb',
        ok: login.success,
        ms,
        retries: orbRetriesIn(out),
        electionWaits: electionWaitsIn(out),
        message: login.success ? '' : lastLines(login.output, 2),
        ...(logout && {
          cleanupOk: logout.success,
          cleanupMs: logout.steps.reduce((a, st) => a + st.durationMs, 0),
          cleanupMessage: logout.success ? '' : lastLines(logout.output, 2),
        }),
        printed: `${out}\n${login.bashEnv}\n${logout?.bashEnv ?? ''}`,
      });
    },

    async cli(o = {}) {
      const job = join(dir, `cli-${++n}`);
      mkdirSync(join(job, 'docker'), { recursive: true });
      mkdirSync(join(job, 'run'), { recursive: true, mode: 0o700 });
      const env2 = {
        PATH: process.env.PATH,
        HOME: job,
        DOCKER_CONFIG: join(job, 'docker'),
        XDG_RUNTIME_DIR: join(job, 'run'),
      };
      const login = await node(
        [
          CLI,
          'login',
          '--url',
          o.url ?? env.vaultAddr,
          '--identity',
          'jwt-file',
          '--jwt-file',
          jwtFile(),
          '--auth-mount',
          fx.githubMount,
          '--role',
          fx.github.role,
          ...(o.source === 'kv' ? ['--secret-path', kvPath] : ['--account', fx.account]),
          '--registry',
          env.registry.host,
          ...(o.timeout ? ['--timeout', String(o.timeout)] : []),
        ],
        env2,
      );
      const out = `${login.stdout}\n${login.stderr}`;
      const logout = o.cleanup === false ? undefined : await node([CLI, 'logout'], env2);
      const outLogout = logout ? `${logout.stdout}\n${logout.stderr}` : '';
      return kept({
        kind: 'cli',
        ok: login.code === 0,
        ms: login.ms,
        retries: retriesIn(out) + retriesIn(outLogout),
        electionWaits: electionWaitsIn(out) + electionWaitsIn(outLogout),
        // The CLI prints the error (error: ...), then its hint.
        message: login.code === 0 ? '' : fromLast(login.stderr, 'error: '),
        ...(logout && {
          cleanupOk: logout.code === 0,
          cleanupMs: logout.ms,
          cleanupMessage: logout.code === 0 ? '' : lastLine(logout.stderr),
        }),
        printed: `${out}\n${outLogout}`,
      });
    },

    async helper(o = {}) {
      const host = join(dir, `host-${++n}`);
      mkdirSync(join(host, 'run'), { recursive: true, mode: 0o700 });
      const config = join(host, 'config.yml');
      writeFileSync(
        config,
        stringify({
          vault: { url: o.url ?? env.vaultAddr, ...(o.timeout && { timeout: o.timeout }) },
          auth: { method: 'jwt', mount: fx.githubMount, role: fx.github.role, jwt_file: jwtFile() },
          registries: [{ registry: env.registry.host, secret_path: pathOf(o) }],
        }),
        { mode: 0o600 },
      );
      const hostEnv = {
        PATH: process.env.PATH,
        HOME: host,
        XDG_RUNTIME_DIR: join(host, 'run'),
        VAULT_DOCKER_LOGIN_CONFIG: config,
      };
      const get = await node([HELPER_BIN, 'get'], hostEnv, env.registry.host);
      const erase =
        o.cleanup === false
          ? undefined
          : await node([HELPER_BIN, 'erase'], hostEnv, env.registry.host);
      return kept({
        kind: 'helper',
        ok: get.code === 0,
        ms: get.ms,
        retries: 0,
        electionWaits: 0,
        // The helper answers on stdout, a failure included (the docker CLI shows that).
        message: get.code === 0 ? '' : get.stdout.trim().replace(/\s*\n\s*/g, ' '),
        ...(erase && {
          cleanupOk: erase.code === 0,
          cleanupMs: erase.ms,
          cleanupMessage: erase.code === 0 ? '' : lastLine(`${erase.stdout}\n${erase.stderr}`),
        }),
        printed: `${get.stderr}\n${get.code === 0 ? '' : get.stdout}\n${erase?.stdout ?? ''}\n${erase?.stderr ?? ''}`,
      });
    },

    async provider(i, o = {}) {
      const url = o.url ?? env.vaultAddr;
      const key = `${url} ${o.timeout ?? ''} ${o.source ?? ''}`;
      let file = providerConfigs.get(key);
      if (!file) {
        file = providerConfig(url, o);
        providerConfigs.set(key, file);
      }
      const sa = `sa-${i % SERVICE_ACCOUNTS}`;
      const t0 = performance.now();
      const r = await runProvider(env, file, {
        image: `${env.registry.host}/acme/private:1`,
        serviceAccountToken: env.issuer.kubernetesToken({
          namespace: 'ha',
          serviceAccount: sa,
          audience: 'vault-docker-login',
        }),
        serviceAccountAnnotations: {
          'vault-docker-login.io/role': `ha-sa-${i % SERVICE_ACCOUNTS}`,
        },
      });
      return kept({
        kind: 'provider',
        ok: r.code === 0,
        ms: performance.now() - t0,
        retries: 0,
        electionWaits: 0,
        message: r.code === 0 ? '' : lastLine(r.stderr),
        printed: r.stderr,
      });
    },
  };
}
