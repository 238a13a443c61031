// The two flows every adapter runs: login (identity -> Vault -> lease -> docker login) and cleanup.
import type { Config } from './config.js';
import { dockerLogin, dockerLogout } from './docker.js';
import { describe, VdlError } from './errors.js';
import type { Exec } from './exec.js';
import { explainLogin } from './explain.js';
import { issueCredential } from './issue.js';
import type { IdentityProvider, Logger, Masker } from './ports.js';
import type { Entry } from './registry-entries.js';
import type { Clock } from './retry.js';
import { naming } from './setting-names.js';
import { createTransport } from './transport.js';
import { revokePolicyPath, VaultClient } from './vault.js';

/** One registry's part of the session. */
export interface LoginRecord {
  registry?: string;
  leaseId?: string;
  leaseDuration?: number;
  expiresAt?: string;
  loggedIn?: boolean;
  /** Vault confirmed the lease revoked (a borrowed token revokes each lease itself). */
  revoked?: boolean;
}

/**
 * What cleanup needs, persisted step by step so a failure half-way still gets cleaned up. The
 * first registry's record sits at the top level (the shape a single-registry login saves);
 * further registries are in `others`.
 */
export interface SessionState extends LoginRecord {
  vaultToken?: string;
  /** When the Vault token ends on its own (ISO time), for a cleanup that cannot reach Vault. */
  vaultTokenExpiresAt?: string;
  /** The user brought the Vault token (VAULT_TOKEN): it is never saved and never revoked. */
  borrowed?: boolean;
  others?: LoginRecord[];
  /** Cleanup already ran (main cleaned up after its own failure, or a second post). */
  done?: boolean;
  /** The credential-helper mode's job directory (core/job-dir.ts): cleanup revokes what it holds. */
  jobDir?: string;
  /** A job directory holding only DOCKER_CONFIG for docker login (a self-hosted runner): removed at cleanup. */
  dockerDir?: string;
}

export interface StateStore {
  save(patch: Partial<SessionState>): void;
  load(): SessionState;
}

export interface SessionDeps {
  /** Where the JWT comes from; not needed with `borrowedToken`. */
  identity?: IdentityProvider;
  /** A Vault token the user brought: skip the JWT login, never revoke the token itself. */
  borrowedToken?: string;
  masker: Masker;
  logger: Logger;
  state: StateStore;
  exec: Exec;
  clock: Clock;
  /** Overrides the undici-based client (tests). */
  vault?: VaultClient;
}

export interface LoginResult {
  username: string;
  registry: string;
  leaseId?: string;
  leaseDuration: number;
  expiresAt?: string;
}

/** What cleanup needs of the configuration (the CLI keeps just this between login and logout). */
export type CleanupConfig = Pick<
  Config,
  | 'url'
  | 'namespace'
  | 'authNamespace'
  | 'tls'
  | 'retries'
  | 'timeoutMs'
  | 'logout'
  | 'revoke'
  | 'registry'
>;

export function vaultClient(
  cfg: Pick<Config, 'url' | 'tls' | 'retries' | 'timeoutMs' | 'names'>,
  deps: Pick<SessionDeps, 'clock' | 'logger' | 'vault'>,
): VaultClient {
  if (deps.vault) return deps.vault;
  return new VaultClient({
    url: cfg.url,
    transport: createTransport(cfg.tls, cfg.names),
    retries: cfg.retries,
    deadline: deps.clock.now() + cfg.timeoutMs,
    clock: deps.clock,
    onRetry: (what, wait, n, counted) =>
      deps.logger.info(
        counted
          ? `Retrying ${what} in ${wait} ms (retry ${n} of ${cfg.retries}).`
          : `Retrying ${what} in ${wait} ms: Vault has no active node (a leader election); waited out for up to ${cfg.timeoutMs / 1000} s (${naming(cfg.names)('timeout')}).`,
      ),
  });
}

async function timed<T>(
  deps: Pick<SessionDeps, 'clock' | 'logger'>,
  label: string,
  fn: () => Promise<T>,
) {
  const start = deps.clock.now();
  const value = await fn();
  return { value, ms: deps.clock.now() - start, label };
}

/** Saves a patch to registry `i`'s record. */
function saveRecord(state: StateStore, i: number, patch: LoginRecord): void {
  if (i === 0) {
    state.save(patch);
    return;
  }
  const others = [...(state.load().others ?? [])];
  others[i - 1] = { ...others[i - 1], ...patch };
  state.save({ others });
}

/** The Vault token: the user's own, or one from a JWT login. */
export async function vaultToken(
  cfg: Config,
  deps: SessionDeps,
  vault: VaultClient,
): Promise<string> {
  const { logger, masker, state } = deps;
  if (deps.borrowedToken) {
    masker.mask(deps.borrowedToken);
    state.save({ borrowed: true });
    logger.info('Using the Vault token from VAULT_TOKEN (it is not revoked at logout).');
    return deps.borrowedToken;
  }
  if (!deps.identity) throw new VdlError('identity', 'No identity provider and no Vault token.');
  const identity = deps.identity;
  const deadline = deps.clock.now() + cfg.timeoutMs;
  const id = await timed(deps, 'identity', () => identity.getToken(cfg.audience, deadline));
  const jwt = id.value;
  masker.mask(jwt);
  logger.info(`Identity token obtained (${id.ms} ms).`);

  const auth = await timed(deps, 'login', async () => {
    try {
      return await vault.jwtLogin(cfg.authMount, cfg.role, jwt, cfg.authNamespace);
    } catch (err) {
      throw explainLogin(err, cfg, jwt, identity.audienceHint);
    }
  });
  masker.mask(auth.value.token);
  const ttl = auth.value.leaseDuration;
  state.save({
    vaultToken: auth.value.token,
    ...(ttl > 0 && {
      vaultTokenExpiresAt: new Date(deps.clock.now() + ttl * 1000).toISOString(),
    }),
  });
  logger.info(
    `Vault login as role "${cfg.role}" on auth/${cfg.authMount}: policies ${auth.value.policies.join(', ') || '(none)'} (${auth.ms} ms).`,
  );
  return auth.value.token;
}

/** One registry: the credential from its source, then docker login. */
async function loginEntry(
  cfg: Config,
  entry: Entry,
  i: number,
  token: string,
  deps: SessionDeps,
  vault: VaultClient,
): Promise<LoginResult> {
  const { logger, masker, state } = deps;
  const { source } = entry;
  saveRecord(state, i, { registry: entry.registry });
  const issued = await timed(deps, 'lease', () =>
    issueCredential(vault, token, entry, cfg, masker, () => deps.clock.now()),
  );
  const cred = issued.value;
  saveRecord(state, i, {
    leaseId: cred.leaseId,
    leaseDuration: cred.leaseDuration,
    expiresAt: cred.expiresAt,
  });
  logger.info(
    `Credential for "${cred.username}" from ${source.path}${cred.leaseId ? `: lease ${cred.leaseId}, ${cred.leaseDuration} s` : ': a static secret, no lease to revoke'} (${source.method}, ${issued.ms} ms).`,
  );
  const dl = await timed(deps, 'docker', () =>
    dockerLogin(deps.exec, entry.registry, cred.username, cred.secret, naming(cfg.names, entry.at)),
  );
  saveRecord(state, i, { loggedIn: true });
  logger.info(`docker login to ${entry.registry} as "${cred.username}" succeeded (${dl.ms} ms).`);
  return {
    username: cred.username,
    registry: entry.registry,
    leaseId: cred.leaseId,
    leaseDuration: cred.leaseDuration,
    expiresAt: cred.expiresAt,
  };
}

/** Logs in to every registry of `cfg.entries` with one Vault token; all or nothing. */
export async function loginAll(cfg: Config, deps: SessionDeps): Promise<LoginResult[]> {
  const { logger } = deps;
  if (cfg.tls.skipVerify) {
    logger.warn(
      `With ${naming(cfg.names)('tls-skip-verify')} on, the Vault server certificate is NOT verified. Anyone in the path can read the token. Use ${naming(cfg.names)('ca-certificate')} instead.`,
    );
  }
  const vault = vaultClient(cfg, deps);
  const token = await vaultToken(cfg, deps, vault);
  const results: LoginResult[] = [];
  try {
    for (const [i, entry] of cfg.entries.entries())
      results.push(await loginEntry(cfg, entry, i, token, deps, vault));
  } catch (err) {
    // The reason follows as the error itself: said once.
    logger.warn('Login failed after Vault issued a token; revoking what it issued.');
    await cleanup(cfg, deps, vault);
    throw err;
  }
  return results;
}

/** The single-registry flow: the first registry's result. */
export async function login(cfg: Config, deps: SessionDeps): Promise<LoginResult> {
  const [first] = await loginAll(cfg, deps);
  if (!first) throw new VdlError('config', 'No registry to log in to.');
  return first;
}

/** Logout and revoke. Never throws: every problem is a warning naming when the lease ends on its own. */
export async function cleanup(
  cfg: CleanupConfig,
  deps: Omit<SessionDeps, 'identity'>,
  client?: VaultClient,
): Promise<void> {
  const { logger } = deps;
  const s = deps.state.load();
  if (s.done) {
    logger.info('Already cleaned up; nothing to do.');
    return;
  }
  const records = [s, ...(s.others ?? [])];
  const token = s.borrowed ? deps.borrowedToken : s.vaultToken;
  if (!s.vaultToken && !s.borrowed && !records.some((r) => r.loggedIn)) {
    logger.info('Nothing to clean up: the login step did not get a Vault token.');
    return;
  }
  const first = records
    .filter((r) => r.expiresAt)
    .sort((x, y) => String(x.expiresAt).localeCompare(String(y.expiresAt)))[0];
  const ends = first
    ? `; it expires on its own at ${first.expiresAt} (TTL ${first.leaseDuration} s)`
    : '';
  // docker logout and the revocations do not depend on each other: they run side by side.
  const logouts = async () => {
    if (!cfg.logout) return;
    for (const [i, r] of records.entries()) {
      if (!r.loggedIn) continue;
      const registry = r.registry ?? cfg.registry;
      try {
        await dockerLogout(deps.exec, registry);
        saveRecord(deps.state, i, { loggedIn: false });
        logger.info(`docker logout from ${registry}.`);
      } catch (err) {
        logger.warn(`${describe(err)}`);
      }
    }
  };
  const now = deps.clock.now();
  // A lease past its end is gone on its own; a revoked one is recorded so a retry skips it.
  const ended = (r: LoginRecord) => Boolean(r.expiresAt && Date.parse(r.expiresAt) <= now);
  for (const r of records.filter((x) => x.leaseId && !x.revoked && ended(x)))
    logger.info(`Lease ${r.leaseId} ended on its own at ${r.expiresAt}.`);
  const open = [...records.entries()].filter(([, r]) => r.leaseId && !r.revoked && !ended(r));
  const leases = open.map(([, r]) => r.leaseId as string);
  // What Vault did not confirm revoked keeps the session open for a later cleanup (post after
  // main, logout run again).
  let left = false;
  const revokes = async () => {
    if (cfg.revoke && token) {
      const vault = client ?? vaultClient(cfg, deps);
      for (const [i, r] of open) {
        const leaseId = r.leaseId as string;
        try {
          const answer = await vault.revokeLease(leaseId, token, cfg.namespace);
          if (answer === 'revoked') {
            saveRecord(deps.state, i, { revoked: true });
            logger.info(`Lease ${leaseId} revoked.`);
            continue;
          }
          if (s.borrowed) {
            left = true;
            logger.warn(
              `Your Vault token may not revoke lease ${leaseId} (update on ${revokePolicyPath(leaseId)} not granted)${ends}.`,
            );
          } else
            logger.debug(
              `${revokePolicyPath(leaseId)} not granted by the policy; revoke-self covers the lease.`,
            );
          // The same policy refuses the rest as well.
          break;
        } catch (err) {
          left ||= s.borrowed === true;
          logger.warn(`Could not revoke lease ${leaseId}: ${describe(err)}${ends}`);
        }
      }
      if (!s.borrowed) {
        try {
          const r = await vault.revokeSelf(token, cfg.authNamespace);
          logger.info(
            r === 'revoked'
              ? 'Vault token revoked (with every lease it created).'
              : 'Vault token was already revoked or expired.',
          );
        } catch (err) {
          // Every lease the token created ends with it, if not before.
          const at = s.vaultTokenExpiresAt;
          const tokenEnds = !at
            ? ''
            : ends
              ? `; the token at ${at}, ending every lease it created`
              : `; it expires on its own at ${at}, with every lease it created`;
          logger.warn(`Could not revoke the Vault token: ${describe(err)}${ends}${tokenEnds}`);
          left = true;
        }
      }
    } else if (cfg.revoke && s.borrowed && leases.length) {
      left = true;
      logger.warn(`VAULT_TOKEN is not set: cannot revoke ${leases.join(', ')}${ends}.`);
    } else if (leases.length) {
      logger.info(
        `revoke is off: ${leases.join(', ')} stay${leases.length > 1 ? '' : 's'} alive${ends}.`,
      );
    }
  };
  // The revocations first: their requests are on the wire while docker is being started.
  await Promise.all([revokes(), logouts()]);
  // With revoke off the token lives on, so a later cleanup may still revoke it.
  if (cfg.revoke && !left) deps.state.save({ done: true });
}
