// The credential-helper mode of a CI job: login makes the job directory (core/job-dir.ts) and
// leaves the leasing to the helper, which every later docker command runs; cleanup (cleanup-plan.ts)
// revokes every lease the helper made and every Vault token of the job, then removes the directory.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup } from './cleanup-run.js';
import type { Config } from './config.js';
import { describe, VdlError } from './errors.js';
import { vaultClient } from './flow-vault-client.js';
import { createJobDir, type JobDir, readJobCache, removeJobDir, writeWrapper } from './job-dir.js';
import { userDockerDir, writeJobDockerConfig } from './job-docker-config.js';
import { writePrivateFile } from './private-dir.js';
import { DOCKER_HUB_AUTH_KEY, registryKey } from './registry-name.js';
import { type LoginResult, type SessionDeps, vaultToken } from './session.js';

/** How the helper logs in again when the job's token could not be renewed (credential_helper.job.relogin). */
export interface Relogin {
  identity: 'github' | 'jwt_env' | 'jwt_file';
  jwt_env?: string;
  jwt_file?: string;
  mount: string;
  role: string;
  audience?: string;
}

export interface JobModeOptions {
  env: NodeJS.ProcessEnv;
  /** The Node running this step, and the helper bundle shipped beside the entry point. */
  node: string;
  helperScript: string;
  relogin?: Relogin;
}

/** The mode cannot work here (the helper does not run); the caller falls back to docker login. */
export class JobModeUnavailable extends VdlError {
  constructor(message: string) {
    super('config', message);
  }
}

export interface JobLogin {
  dir: JobDir;
  results: LoginResult[];
}

/** TLS material given inline becomes files in the job directory: the helper reads paths. */
function tlsFiles(cfg: Config, d: JobDir): Record<string, string | boolean | undefined> {
  const file = (name: string, pem: string | undefined, path: string | undefined) => {
    if (!pem) return path;
    const p = join(d.dir, name);
    writePrivateFile(p, pem);
    return p;
  };
  return {
    ca_cert: file('vault-ca.pem', cfg.tls.ca, cfg.tls.caFile),
    client_cert: file('vault-client.pem', cfg.tls.cert, cfg.tls.certFile),
    client_key: file('vault-client-key.pem', cfg.tls.key, cfg.tls.keyFile),
    tls_skip_verify: cfg.tls.skipVerify,
  };
}

function helperConfig(cfg: Config, d: JobDir, relogin: Relogin | undefined): unknown {
  return {
    vault: {
      url: cfg.url,
      namespace: cfg.namespace,
      auth_namespace: cfg.authNamespace,
      timeout: Math.ceil(cfg.timeoutMs / 1000),
      retries: cfg.retries,
      ...tlsFiles(cfg, d),
    },
    auth: { method: 'token_file', token_file: d.tokenFile },
    registries: cfg.entries.map((e) => ({
      registry: e.registry,
      secret_path: e.source.path,
      method: e.source.method,
      body: e.source.body,
      username_field: e.fields.username,
      password_field: e.fields.password,
    })),
    credential_helper: { job: { renew: true, relogin } },
  };
}

/** The server address docker sends the helper for a registry. */
const serverOf = (registry: string) =>
  registryKey(registry) === 'docker.io' ? DOCKER_HUB_AUTH_KEY : registry.split('/')[0];

/**
 * Asks the helper for each registry, as docker will: proves it runs here, and leases now so a
 * misconfigured source fails this step rather than a later docker command.
 */
async function firstLeases(cfg: Config, deps: SessionDeps, d: JobDir): Promise<LoginResult[]> {
  const results: LoginResult[] = [];
  for (const e of cfg.entries) {
    let r: Awaited<ReturnType<SessionDeps['exec']>>;
    try {
      r = await deps.exec(d.wrapper, ['get'], { input: `${serverOf(e.registry)}\n` });
    } catch (err) {
      throw new JobModeUnavailable(`${d.wrapper} could not be started: ${describe(err)}`);
    }
    // 126/127: the shell found no interpreter or could not execute it (noexec, no /bin/sh).
    if (r.code === 126 || r.code === 127)
      throw new JobModeUnavailable(
        `${d.wrapper} could not run (exit ${r.code}): ${r.stderr.trim()}`,
      );
    if (r.code !== 0) throw new VdlError('credential', r.stdout.trim() || r.stderr.trim());
    const answer = JSON.parse(r.stdout) as { Username: string; Secret: string };
    deps.masker.mask(answer.Secret);
    deps.masker.mask(Buffer.from(`${answer.Username}:${answer.Secret}`).toString('base64'));
    const cached = readJobCache(d).entries[registryKey(e.registry)];
    const ends = cached?.endsAt;
    results.push({
      username: answer.Username,
      registry: e.registry,
      leaseId: cached?.leaseId,
      leaseDuration: ends ? Math.round((ends - Date.now()) / 1000) : 0,
      expiresAt: ends ? new Date(ends).toISOString() : undefined,
    });
    deps.logger.info(
      `Credential helper: ${e.registry} leased from ${e.source.path}${cached?.leaseId ? ` (lease ${cached.leaseId})` : ''}; later docker commands get a fresh lease whenever this one ends.`,
    );
  }
  return results;
}

/**
 * Logs in to Vault and makes the job directory. JobModeUnavailable (nothing left behind) means
 * the helper cannot run here: the caller falls back to docker login.
 */
export async function loginJob(
  cfg: Config,
  deps: SessionDeps,
  o: JobModeOptions,
): Promise<JobLogin> {
  if (!existsSync(o.helperScript))
    throw new JobModeUnavailable(`The helper bundle ${o.helperScript} is missing.`);
  let d: JobDir;
  try {
    d = createJobDir(o.env);
  } catch (err) {
    throw new JobModeUnavailable(describe(err));
  }
  deps.state.save({ jobDir: d.dir });
  writeWrapper(d, o.node, o.helperScript);
  const vault = vaultClient(cfg, deps);
  let token: string;
  try {
    token = await vaultToken(cfg, deps, vault);
  } catch (err) {
    removeJobDir(d.dir);
    deps.state.save({ jobDir: undefined });
    throw err;
  }
  try {
    writePrivateFile(d.tokenFile, `${token}\n`);
    writeFileSync(d.helperConfig, `${JSON.stringify(helperConfig(cfg, d, o.relogin), null, 2)}\n`, {
      mode: 0o600,
    });
    writeJobDockerConfig(
      d.dockerConfig,
      userDockerDir(o.env),
      cfg.entries.map((e) => e.registry),
    );
    return { dir: d, results: await firstLeases(cfg, deps, d) };
  } catch (err) {
    deps.logger.warn('The credential-helper mode failed after Vault issued a token; revoking it.');
    await cleanup(cfg, deps, vault);
    if (err instanceof JobModeUnavailable)
      deps.state.save({ jobDir: undefined, vaultToken: undefined, done: undefined });
    throw err;
  }
}

/**
 * docker login's own DOCKER_CONFIG for this job (a self-hosted runner, where every job of the
 * user would otherwise share ~/.docker/config.json): the user's config carried over, no helper.
 */
export function localDockerConfig(
  env: NodeJS.ProcessEnv,
  deps: Pick<SessionDeps, 'state'>,
): JobDir {
  const d = createJobDir(env);
  deps.state.save({ dockerDir: d.dir });
  writeJobDockerConfig(d.dockerConfig, userDockerDir(env), []);
  return d;
}
