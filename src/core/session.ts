// The login flow every adapter runs: identity -> Vault -> lease -> docker login (cleanup-run.ts
// undoes it).
import { type CleanupDeps, cleanup } from './cleanup-run.js';
import type { Config } from './config.js';
import { dockerLogin } from './docker.js';
import { VdlError } from './errors.js';
import { explainLogin } from './explain.js';
import { vaultClient } from './flow-vault-client.js';
import { issueCredential } from './issue.js';
import type { IdentityProvider } from './ports.js';
import type { Entry } from './registry-entries.js';
import { saveRecord } from './session-state.js';
import { naming } from './setting-names.js';
import type { VaultClient } from './vault.js';

export interface SessionDeps extends CleanupDeps {
  /** Where the JWT comes from; not needed with `borrowedToken`. */
  identity?: IdentityProvider;
}

export interface LoginResult {
  username: string;
  registry: string;
  leaseId?: string;
  leaseDuration: number;
  expiresAt?: string;
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
