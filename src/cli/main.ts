// The CLI: `login` and `logout` over the same core as the Action. Logs go to stderr, --json to stdout.
import { appendFileSync } from 'node:fs';
import { cleanup } from '../core/cleanup-run.js';
import type { Config } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { type Exec, nodeExec } from '../core/exec.js';
import { JobModeUnavailable, loginJob } from '../core/job-session.js';
import { loadConfig } from '../core/load-config.js';
import type { Logger } from '../core/ports.js';
import { defaultLabel } from '../core/registry-entries.js';
import { systemClock } from '../core/retry.js';
import { type LoginResult, loginAll, type SessionDeps } from '../core/session.js';
import type { CleanupConfig } from '../core/session-state.js';
import type { RawInputs } from '../core/validators.js';
import { packageVersion } from '../core/version.js';
import { type Flags, HELP, INPUT_FLAGS, parseCommand } from './args.js';
import { ciJob, cliJobOptions, exportLines, refuseOtherJob, sessionName } from './ci-job.js';
import {
  detectIdentity,
  type IdentityOptions,
  identityProvider,
  refuseAudience,
} from './identity.js';
import { fileStore, readState, removeState, stateLocation } from './state.js';
import { UsageError } from './usage.js';
import { CLI_NAMES, cliError } from './wording.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

function stderrLogger(io: Io): Logger & { warnings: number } {
  const log = {
    warnings: 0,
    info: (m: string) => io.err(`${m}\n`),
    warn: (m: string) => {
      log.warnings++;
      io.err(`warning: ${m}\n`);
    },
    // Details only the Action's debug log shows; the CLI stays quiet about them.
    debug: () => {},
  };
  return log;
}

/** The CI job, for the Docker Hub token label. */
function ciLabel(env: NodeJS.ProcessEnv): string {
  const job = env.GITHUB_REPOSITORY
    ? [env.GITHUB_REPOSITORY, `run ${env.GITHUB_RUN_ID ?? ''}`]
    : env.CI_PROJECT_PATH
      ? [env.CI_PROJECT_PATH, `job ${env.CI_JOB_ID ?? ''}`]
      : env.BUILDKITE_PIPELINE_SLUG
        ? [env.BUILDKITE_PIPELINE_SLUG, `build ${env.BUILDKITE_BUILD_NUMBER ?? ''}`]
        : env.CIRCLE_PROJECT_REPONAME
          ? [env.CIRCLE_PROJECT_REPONAME, `build ${env.CIRCLE_BUILD_NUM ?? ''}`]
          : env.JOB_NAME
            ? [env.JOB_NAME, `build ${env.BUILD_NUMBER ?? ''}`]
            : ['vault-docker-login'];
  return defaultLabel(job);
}

const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);

/** docker runs against the DOCKER_CONFIG of the login, whatever the logout's environment says. */
function dockerExec(dockerConfig: string | undefined): Exec {
  if (!dockerConfig) return nodeExec;
  return (cmd, args, opts = {}) =>
    nodeExec(cmd, args, {
      ...opts,
      env: { ...process.env, ...opts.env, DOCKER_CONFIG: dockerConfig },
    });
}

function cleanupConfig(cfg: Config): CleanupConfig {
  const { url, namespace, authNamespace, tls, retries, timeoutMs, logout, revoke, registry } = cfg;
  return { url, namespace, authNamespace, tls, retries, timeoutMs, logout, revoke, registry };
}

async function login(flags: Flags, env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const idOpts: IdentityOptions = {
    identity: str(flags.identity),
    jwtFile: str(flags['jwt-file']),
    jwtEnv: str(flags['jwt-env']),
    gitlabTokenVar: str(flags['gitlab-token-var']) ?? 'VAULT_ID_TOKEN',
  };
  const identity = detectIdentity(idOpts, env);
  if (str(flags.audience)) refuseAudience(identity, idOpts);
  const raw: RawInputs = {};
  for (const f of INPUT_FLAGS) raw[f] = str(flags[f]);
  if (flags['tls-skip-verify']) raw['tls-skip-verify'] = 'true';
  // The role is not used without a JWT login.
  if (identity === 'vault-token' && !raw.role) raw.role = 'none';
  const cfg = await loadConfig(
    raw,
    {
      ...env,
      VAULT_CACERT: str(flags['ca-cert']) ?? env.VAULT_CACERT,
      VAULT_CLIENT_CERT: str(flags['client-cert']) ?? env.VAULT_CLIENT_CERT,
      VAULT_CLIENT_KEY: str(flags['client-key']) ?? env.VAULT_CLIENT_KEY,
    },
    { label: ciLabel(env), names: CLI_NAMES },
  );
  const job = ciJob(env);
  const session = sessionName(str(flags.session), job);
  const helper = flags['credential-helper'] === true;
  const exportFile = str(flags['export-file']);
  if (exportFile && !helper) throw new UsageError('--export-file goes with --credential-helper.');
  if (helper && flags.json && !exportFile)
    throw new UsageError(
      '--json and --credential-helper both print on stdout; pass --export-file FILE for the variables.',
    );
  const at = stateLocation(env, session, str(flags['state-file']));
  const before = readState(at.path);
  if (before && !before.state.done)
    throw new ConfigError(
      'session',
      `"${session}" is still logged in (state in ${at.path}). Run "vault-docker-login logout" first, or pass another --session.`,
    );
  const logger = stderrLogger(io);
  const clock = systemClock;
  const deps: SessionDeps = {
    // The CLI prints no secret, so there is nothing to mask.
    masker: { mask: () => {} },
    logger,
    state: fileStore(at, {
      version: 1,
      config: cleanupConfig(cfg),
      dockerConfig: env.DOCKER_CONFIG,
      job,
    }),
    exec: nodeExec,
    clock,
  };
  if (identity === 'vault-token') {
    if (!env.VAULT_TOKEN)
      throw new UsageError('--identity vault-token needs VAULT_TOKEN to be set.');
    deps.borrowedToken = env.VAULT_TOKEN;
  } else {
    logger.info(`Identity: ${identity}.`);
    deps.identity = identityProvider(identity, idOpts, env, {
      exec: nodeExec,
      clock,
      retries: cfg.retries,
      logger,
    });
  }
  const logoutHint = `vault-docker-login logout${flags.session ? ` --session ${flags.session}` : ''}`;
  try {
    let results: LoginResult[] | undefined;
    if (helper) {
      try {
        const j = await loginJob(cfg, deps, cliJobOptions(identity, idOpts, cfg, env));
        const lines = exportLines(j.dir.dockerConfig, j.dir.bin, env.PATH ?? '', !exportFile);
        if (exportFile) appendFileSync(exportFile, lines);
        else io.out(lines);
        logger.info(
          `Credential helper for this job: DOCKER_CONFIG=${j.dir.dockerConfig}${exportFile ? ` (written to ${exportFile})` : ''}; each registry is leased on use and again whenever its lease ends, until "${logoutHint}" revokes it all.`,
        );
        results = j.results;
      } catch (err) {
        if (!(err instanceof JobModeUnavailable)) throw err;
        logger.warn(
          `--credential-helper: the helper cannot run here, so this login uses docker login instead (valid for one lease TTL). ${err.message}`,
        );
      }
    }
    if (!results) {
      if (job && !env.DOCKER_CONFIG)
        logger.warn(
          `DOCKER_CONFIG is not set: docker login writes to ~/.docker/config.json, which every job of this user on this host shares (another job's login or logout replaces this one's). Set DOCKER_CONFIG to a directory of this job, or use --credential-helper.`,
        );
      results = await loginAll(cfg, deps);
      const first = results.find((r) => r.expiresAt);
      if (first)
        logger.info(
          `The credential ends with its lease at ${first.expiresAt} (lease TTL ${first.leaseDuration} s); docker commands after that fail with "unauthorized". --credential-helper keeps the job's credentials valid to its end.`,
        );
    }
    if (flags.json)
      io.out(
        `${JSON.stringify(
          results.map((r) => ({
            registry: r.registry,
            username: r.username,
            'lease-id': r.leaseId ?? '',
            'expires-at': r.expiresAt ?? '',
          })),
        )}\n`,
      );
    logger.info(`Logged in; run "${logoutHint}" at the end.`);
    return EXIT.ok;
  } catch (err) {
    // loginAll / loginJob already logged out and revoked what it got.
    removeState(at.path);
    throw err;
  }
}

async function logout(flags: Flags, env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const here = ciJob(env);
  const at = stateLocation(env, sessionName(str(flags.session), here), str(flags['state-file']));
  const file = readState(at.path);
  if (!file) {
    io.err(`Nothing to clean up: no login state at ${at.path}.\n`);
    return EXIT.ok;
  }
  refuseOtherJob(file.job, here, at.path);
  const logger = stderrLogger(io);
  // Progress is written back, so a retry redoes only what Vault did not confirm.
  const { state: saved, ...base } = file;
  const state = fileStore(at, base, saved);
  const deps = {
    masker: { mask: () => {} },
    logger,
    state,
    exec: dockerExec(file.dockerConfig),
    clock: systemClock,
    borrowedToken: file.state.borrowed ? env.VAULT_TOKEN : undefined,
  };
  await cleanup(file.config, deps);
  // What Vault did not confirm revoked keeps the state, so running logout again retries.
  if (state.load().done || !file.config.revoke) removeState(at.path);
  else {
    const again = `vault-docker-login logout${flags.session ? ` --session ${flags.session}` : ''}`;
    io.err(
      `The login state stays in ${at.path}: run "${again}" again${file.state.borrowed ? ' with a VAULT_TOKEN that may revoke the leases' : ''} to retry. Once the leases have ended on their own, logout removes it.\n`,
    );
  }
  return logger.warnings ? EXIT.failure : EXIT.ok;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  try {
    const cmd = parseCommand(argv);
    if (cmd.name === 'usage') {
      io.err(HELP.help);
      return EXIT.usage;
    }
    if (cmd.name === 'version') {
      io.out(`${packageVersion()}\n`);
      return EXIT.ok;
    }
    if (cmd.name === 'help' || cmd.flags.help) {
      io.out(HELP[cmd.name]);
      return EXIT.ok;
    }
    return cmd.name === 'login'
      ? await login(cmd.flags, env, io)
      : await logout(cmd.flags, env, io);
  } catch (err) {
    io.err(`error: ${cliError(err)}\n`);
    if (err instanceof UsageError) io.err('Run "vault-docker-login --help" for usage.\n');
    return err instanceof UsageError || err instanceof ConfigError ? EXIT.usage : EXIT.failure;
  }
}
