// Carries out the cleanup plan (cleanup-plan.ts): logout and revoke, for the single login and the
// credential-helper job mode alike. Never throws: every problem is a warning saying when what is
// left ends on its own.
import { type CleanupStep, type JobDirContents, planCleanup } from './cleanup-plan.js';
import { dockerLogout } from './docker.js';
import { describe } from './errors.js';
import type { Exec } from './exec.js';
import { vaultClient } from './flow-vault-client.js';
import {
  checkJobDir,
  jobDirLayout,
  readJobCache,
  readPrivateText,
  removeJobDir,
} from './job-dir.js';
import type { Logger, Masker } from './ports.js';
import type { Clock } from './retry.js';
import { type CleanupConfig, type StateStore, saveRecord } from './session-state.js';
import { revokePolicyPath, type VaultClient } from './vault.js';

export interface CleanupDeps {
  /** A Vault token the user brought: used to revoke leases, never revoked itself. */
  borrowedToken?: string;
  masker: Masker;
  logger: Logger;
  state: StateStore;
  exec: Exec;
  clock: Clock;
  /** Overrides the undici-based client (tests). */
  vault?: VaultClient;
}

/** What one step did. `leaves`: something stays behind, so the session is not done. */
interface Outcome {
  step: CleanupStep;
  result: 'ok' | 'revoked' | 'gone' | 'refused' | 'failed';
  leaves: boolean;
}

/** Logout and revoke what the state records. */
export async function cleanup(
  cfg: CleanupConfig,
  deps: CleanupDeps,
  client?: VaultClient,
): Promise<void> {
  const state = deps.state.load();
  const plan = planCleanup({
    state,
    cfg,
    borrowedToken: deps.borrowedToken,
    now: deps.clock.now(),
    jobDir: state.jobDir ? readJobDir(state.jobDir) : undefined,
  });
  await runCleanup(plan, cfg, deps, client);
}

/** What the job directory holds, when it is one of ours: nothing is read from anything else. */
function readJobDir(dir: string): JobDirContents {
  const d = jobDirLayout(dir);
  try {
    checkJobDir(dir);
  } catch {
    return { present: false, leases: [], tokens: [] };
  }
  const view = readJobCache(d);
  const tokens = [readPrivateText(d.tokenFile)?.trim(), ...view.tokens];
  return { present: true, leases: view.leases, tokens: tokens.filter((t): t is string => !!t) };
}

async function runCleanup(
  plan: CleanupStep[],
  cfg: CleanupConfig,
  deps: CleanupDeps,
  client?: VaultClient,
): Promise<void> {
  const { logger } = deps;
  for (const step of plan) {
    if (step.kind === 'note') logger[step.level](step.text);
    else if (step.kind === 'mask') deps.masker.mask(step.secret);
  }
  const onVault = plan.filter((s) => s.kind === 'revoke-lease' || s.kind === 'revoke-token');
  const onDocker = plan.filter((s) => s.kind === 'docker-logout');
  // docker logout and the revocations do not depend on each other: they run side by side, the
  // revocations first (their requests are on the wire while docker is being started).
  const [vaulted, dockered] = await Promise.all([
    onVault.length ? revokeAll(onVault, cfg, deps, client) : [],
    logoutAll(onDocker, deps),
  ]);
  const outcomes: Outcome[] = [...vaulted, ...dockered];
  for (const step of plan) {
    if (step.kind === 'job-summary') outcomes.push(summarise(step, vaulted, logger));
    else if (step.kind === 'remove-job-dir') outcomes.push(removeDir(step, logger));
    // What Vault did not confirm revoked keeps the session open for a later cleanup (post after
    // main, logout run again).
    else if (step.kind === 'mark-done' && !outcomes.some((o) => o.leaves))
      deps.state.save({ done: true });
  }
}

async function logoutAll(
  steps: Extract<CleanupStep, { kind: 'docker-logout' }>[],
  deps: CleanupDeps,
): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const step of steps) out.push(await logout(step, deps));
  return out;
}

/** One after the other; once a lease revoke is refused, the same policy refuses the rest. */
async function revokeAll(
  steps: CleanupStep[],
  cfg: CleanupConfig,
  deps: CleanupDeps,
  client?: VaultClient,
): Promise<Outcome[]> {
  const vault = client ?? vaultClient(cfg, deps);
  const out: Outcome[] = [];
  for (const step of steps) {
    if (step.kind === 'revoke-lease') {
      if (out.some((o) => o.result === 'refused')) continue;
      out.push(await revokeLease(step, cfg, deps, vault));
    } else if (step.kind === 'revoke-token') out.push(await revokeToken(step, cfg, deps, vault));
  }
  return out;
}

async function logout(
  step: Extract<CleanupStep, { kind: 'docker-logout' }>,
  deps: CleanupDeps,
): Promise<Outcome> {
  try {
    await dockerLogout(deps.exec, step.registry);
    saveRecord(deps.state, step.record, { loggedIn: false });
    deps.logger.info(`docker logout from ${step.registry}.`);
    return { step, result: 'ok', leaves: false };
  } catch (err) {
    deps.logger.warn(`${describe(err)}`);
    return { step, result: 'failed', leaves: false };
  }
}

async function revokeLease(
  step: Extract<CleanupStep, { kind: 'revoke-lease' }>,
  cfg: CleanupConfig,
  deps: CleanupDeps,
  vault: VaultClient,
): Promise<Outcome> {
  const { leaseId, ends } = step;
  const { logger } = deps;
  try {
    if ((await vault.revokeLease(leaseId, step.token, cfg.namespace)) === 'revoked') {
      if (step.record !== undefined) {
        saveRecord(deps.state, step.record, { revoked: true });
        logger.info(`Lease ${leaseId} revoked.`);
      }
      return { step, result: 'revoked', leaves: false };
    }
    if (!step.coveredByToken)
      logger.warn(
        `Your Vault token may not revoke lease ${leaseId} (update on ${revokePolicyPath(leaseId)} not granted)${ends}.`,
      );
    else
      logger.debug(
        `${revokePolicyPath(leaseId)} not granted by the policy; revoke-self covers the lease.`,
      );
    return { step, result: 'refused', leaves: !step.coveredByToken };
  } catch (err) {
    logger.warn(`Could not revoke lease ${leaseId}: ${describe(err)}${ends}`);
    return { step, result: 'failed', leaves: !step.coveredByToken };
  }
}

async function revokeToken(
  step: Extract<CleanupStep, { kind: 'revoke-token' }>,
  cfg: CleanupConfig,
  deps: CleanupDeps,
  vault: VaultClient,
): Promise<Outcome> {
  try {
    const result = await vault.revokeSelf(step.token, cfg.authNamespace);
    if (step.whose === 'session')
      deps.logger.info(
        result === 'revoked'
          ? 'Vault token revoked (with every lease it created).'
          : 'Vault token was already revoked or expired.',
      );
    return { step, result, leaves: false };
  } catch (err) {
    deps.logger.warn(
      `Could not revoke ${step.whose === 'session' ? 'the Vault token' : 'a Vault token of the job'}: ${describe(err)}${step.ends}`,
    );
    return { step, result: 'failed', leaves: true };
  }
}

function summarise(
  step: Extract<CleanupStep, { kind: 'job-summary' }>,
  vaulted: Outcome[],
  logger: Logger,
): Outcome {
  const count = (kind: CleanupStep['kind']) =>
    vaulted.filter((o) => o.step.kind === kind && o.result === 'revoked').length;
  logger.info(
    `Credential helper: ${step.live} live lease(s) of ${step.made} made during the job revoked (${count('revoke-lease')} explicitly, the rest with the token); ${count('revoke-token')} Vault token(s) revoked.`,
  );
  return { step, result: 'ok', leaves: false };
}

function removeDir(
  step: Extract<CleanupStep, { kind: 'remove-job-dir' }>,
  logger: Logger,
): Outcome {
  try {
    removeJobDir(step.dir);
    logger.info(`Removed the job directory ${step.dir}.`);
    return { step, result: 'ok', leaves: false };
  } catch (err) {
    logger.warn(`Could not remove the job directory ${step.dir}: ${describe(err)}`);
    return { step, result: 'failed', leaves: true };
  }
}
