// The two flows every adapter runs: login (identity -> Vault -> lease -> docker login) and cleanup.
import type { Config } from './config.js';
import { type Credential, dockerAuthString, toCredential } from './credential.js';
import { dockerLogin, dockerLogout } from './docker.js';
import { describe } from './errors.js';
import type { Exec } from './exec.js';
import { explainIssue, explainLogin } from './explain.js';
import { createDispatcher } from './http.js';
import type { Clock } from './retry.js';
import { VaultClient } from './vault.js';

export interface IdentityProvider {
  /** Fetches the CI's OIDC token; may retry until `deadline` (epoch ms). */
  getToken(audience: string | undefined, deadline: number): Promise<string>;
}

export interface Masker {
  /** Called the moment a secret exists, before anything could print it. */
  mask(secret: string): void;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

/** What cleanup needs, persisted step by step so a failure half-way still gets cleaned up. */
export interface SessionState {
  vaultToken?: string;
  leaseId?: string;
  leaseDuration?: number;
  expiresAt?: string;
  registry?: string;
  loggedIn?: boolean;
  /** Cleanup already ran (main cleaned up after its own failure, or a second post). */
  done?: boolean;
}

export interface StateStore {
  save(patch: Partial<SessionState>): void;
  load(): SessionState;
}

export interface SessionDeps {
  identity: IdentityProvider;
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

export function vaultClient(
  cfg: Config,
  deps: Pick<SessionDeps, 'clock' | 'logger' | 'vault'>,
): VaultClient {
  if (deps.vault) return deps.vault;
  return new VaultClient({
    url: cfg.url,
    dispatcher: createDispatcher(cfg.tls),
    retries: cfg.retries,
    deadline: deps.clock.now() + cfg.timeoutMs,
    clock: deps.clock,
    onRetry: (what, wait, n) =>
      deps.logger.info(`Retrying ${what} in ${wait} ms (retry ${n} of ${cfg.retries}).`),
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

export async function login(cfg: Config, deps: SessionDeps): Promise<LoginResult> {
  const { logger, masker, state } = deps;
  if (cfg.tls.skipVerify) {
    logger.warn(
      'tls-skip-verify is on: the Vault server certificate is NOT verified. Anyone in the path can read the token. Use ca-certificate instead.',
    );
  }
  const vault = vaultClient(cfg, deps);
  const deadline = deps.clock.now() + cfg.timeoutMs;

  const id = await timed(deps, 'identity', () => deps.identity.getToken(cfg.audience, deadline));
  const jwt = id.value;
  masker.mask(jwt);
  logger.info(`Identity token obtained (${id.ms} ms).`);

  const auth = await timed(deps, 'login', async () => {
    try {
      return await vault.jwtLogin(cfg.authMount, cfg.role, jwt, cfg.authNamespace);
    } catch (err) {
      throw explainLogin(err, cfg, jwt);
    }
  });
  masker.mask(auth.value.token);
  state.save({ vaultToken: auth.value.token, registry: cfg.registry });
  logger.info(
    `Vault login as role "${cfg.role}" on auth/${cfg.authMount}: policies ${auth.value.policies.join(', ') || '(none)'} (${auth.ms} ms).`,
  );

  let cred: Credential;
  try {
    const issued = await timed(deps, 'lease', async () => {
      try {
        const answer = await vault.call({
          method: cfg.source.method === 'write' ? 'POST' : 'GET',
          path: cfg.source.path,
          token: auth.value.token,
          namespace: cfg.namespace,
          body: cfg.source.method === 'write' ? cfg.source.body : undefined,
        });
        const secretValue = (answer as { data?: Record<string, unknown> })?.data;
        // Mask whatever secret-looking values arrived before mapping can fail and print anything.
        for (const k of ['token', 'password', 'secret', 'access_token']) {
          if (typeof secretValue?.[k] === 'string') masker.mask(secretValue[k] as string);
        }
        return toCredential(answer, deps.clock.now());
      } catch (err) {
        throw explainIssue(err, cfg);
      }
    });
    cred = issued.value;
    masker.mask(cred.secret);
    masker.mask(dockerAuthString(cred));
    state.save({
      leaseId: cred.leaseId,
      leaseDuration: cred.leaseDuration,
      expiresAt: cred.expiresAt,
    });
    logger.info(
      `Credential for "${cred.username}" from ${cfg.source.path}${cred.leaseId ? `: lease ${cred.leaseId}, ${cred.leaseDuration} s` : ' (no lease)'} (${issued.ms} ms).`,
    );

    const dl = await timed(deps, 'docker', () =>
      dockerLogin(deps.exec, cfg.registry, issued.value.username, issued.value.secret),
    );
    state.save({ loggedIn: true });
    logger.info(`docker login to ${cfg.registry} as "${cred.username}" succeeded (${dl.ms} ms).`);
  } catch (err) {
    logger.warn(
      `Login failed after Vault issued a token; revoking now: ${describe(err).split('\n')[0]}`,
    );
    await cleanup(cfg, deps, vault);
    throw err;
  }
  return {
    username: cred.username,
    registry: cfg.registry,
    leaseId: cred.leaseId,
    leaseDuration: cred.leaseDuration,
    expiresAt: cred.expiresAt,
  };
}

/** Logout and revoke. Never throws: every problem is a warning naming when the lease ends on its own. */
export async function cleanup(
  cfg: Config,
  deps: Omit<SessionDeps, 'identity'>,
  client?: VaultClient,
): Promise<void> {
  const { logger } = deps;
  const s = deps.state.load();
  if (s.done) {
    logger.info('Already cleaned up; nothing to do.');
    return;
  }
  if (!s.vaultToken && !s.loggedIn) {
    logger.info('Nothing to clean up: the login step did not get a Vault token.');
    return;
  }
  const ends = s.expiresAt
    ? `; it expires on its own at ${s.expiresAt} (TTL ${s.leaseDuration} s)`
    : '';
  if (s.loggedIn && cfg.logout) {
    try {
      await dockerLogout(deps.exec, s.registry ?? cfg.registry);
      logger.info(`docker logout from ${s.registry ?? cfg.registry}.`);
    } catch (err) {
      logger.warn(`${describe(err)}`);
    }
  }
  if (cfg.revoke && s.vaultToken) {
    const vault = client ?? vaultClient(cfg, deps);
    if (s.leaseId) {
      try {
        const r = await vault.revokeLease(s.leaseId, s.vaultToken, cfg.namespace);
        if (r === 'revoked') logger.info(`Lease ${s.leaseId} revoked.`);
        else
          logger.debug(
            'sys/leases/revoke not granted by the policy; revoke-self covers the lease.',
          );
      } catch (err) {
        logger.warn(`Could not revoke lease ${s.leaseId}: ${describe(err)}${ends}`);
      }
    }
    try {
      const r = await vault.revokeSelf(s.vaultToken, cfg.authNamespace);
      logger.info(
        r === 'revoked'
          ? 'Vault token revoked (with every lease it created).'
          : 'Vault token was already revoked or expired.',
      );
    } catch (err) {
      logger.warn(`Could not revoke the Vault token: ${describe(err)}${ends}`);
    }
  } else if (s.leaseId) {
    logger.info(`revoke is off: lease ${s.leaseId} stays alive${ends}.`);
  }
  // With revoke off the token lives on, so a later cleanup may still revoke it.
  if (cfg.revoke) deps.state.save({ done: true });
}
