// What cleanup undoes, decided from the session's state alone (no I/O): cleanup-run.ts carries
// it out. The single login and the credential-helper job mode differ only in the steps listed.
import type { CleanupConfig, LoginRecord, SessionState } from './session-state.js';

export type CleanupStep =
  /** Said before anything runs. */
  | { kind: 'note'; level: 'info' | 'warn'; text: string }
  /** A secret cleanup is about to handle, masked first. */
  | { kind: 'mask'; secret: string }
  | { kind: 'docker-logout'; registry: string; record: number }
  | {
      kind: 'revoke-lease';
      leaseId: string;
      token: string;
      /** The session record marked revoked once Vault confirms; the helper's leases have none. */
      record?: number;
      /** Revoking the token ends the lease too (not so for a borrowed token, never revoked). */
      coveredByToken: boolean;
      /** When the lease ends on its own, for the warning if it cannot be revoked. */
      ends: string;
    }
  | { kind: 'revoke-token'; token: string; whose: 'session' | 'job'; ends: string }
  /** The credential-helper mode's count of what the revocations above did. */
  | { kind: 'job-summary'; live: number; made: number }
  | { kind: 'remove-job-dir'; dir: string }
  /** Runs only when no step before it left something behind. */
  | { kind: 'mark-done' };

/** What the job directory holds, read by cleanup-run.ts. */
export interface JobDirContents {
  /** False when the directory is gone or not one to trust: nothing in it is read or removed. */
  present: boolean;
  leases: { leaseId: string; endsAt?: number }[];
  /** The job's Vault token file first, then the tokens in the helper's cache. */
  tokens: string[];
}

export interface CleanupInput {
  state: SessionState;
  cfg: Pick<CleanupConfig, 'logout' | 'revoke' | 'registry'>;
  /** The Vault token from VAULT_TOKEN, for a session whose token was borrowed. */
  borrowedToken?: string;
  /** Epoch ms. */
  now: number;
  /** The contents of `state.jobDir`; absent reads as a directory already gone. */
  jobDir?: JobDirContents;
}

const GONE: JobDirContents = { present: false, leases: [], tokens: [] };

/**
 * The steps, in order: notes and masks; docker logouts beside the Vault revocations (leases,
 * then tokens); then files; then marking the session done, which revoke off never does (the token
 * lives on, so a later cleanup may still revoke it).
 */
export function planCleanup(input: CleanupInput): CleanupStep[] {
  if (input.state.done)
    return [{ kind: 'note', level: 'info', text: 'Already cleaned up; nothing to do.' }];
  return input.state.jobDir
    ? jobSteps(input, input.state.jobDir, input.jobDir ?? GONE)
    : sessionSteps(input);
}

/** The single login: docker logout from each registry, revoke each lease, then the token. */
function sessionSteps({ state: s, cfg, borrowedToken, now }: CleanupInput): CleanupStep[] {
  const records = [s, ...(s.others ?? [])];
  const token = s.borrowed ? borrowedToken : s.vaultToken;
  if (!s.vaultToken && !s.borrowed && !records.some((r) => r.loggedIn))
    return [
      {
        kind: 'note',
        level: 'info',
        text: 'Nothing to clean up: the login step did not get a Vault token.',
      },
    ];
  const first = records
    .filter((r) => r.expiresAt)
    .sort((x, y) => String(x.expiresAt).localeCompare(String(y.expiresAt)))[0];
  const ends = first
    ? `; it expires on its own at ${first.expiresAt} (TTL ${first.leaseDuration} s)`
    : '';
  // A lease past its end is gone on its own; a revoked one is recorded so a retry skips it.
  const ended = (r: LoginRecord) => Boolean(r.expiresAt && Date.parse(r.expiresAt) <= now);
  const notes: CleanupStep[] = records
    .filter((r) => r.leaseId && !r.revoked && ended(r))
    .map((r) => ({
      kind: 'note',
      level: 'info',
      text: `Lease ${r.leaseId} ended on its own at ${r.expiresAt}.`,
    }));
  const open = [...records.entries()].filter(([, r]) => r.leaseId && !r.revoked && !ended(r));
  const leases = open.map(([, r]) => r.leaseId as string);
  const logouts: CleanupStep[] = cfg.logout
    ? [...records.entries()]
        .filter(([, r]) => r.loggedIn)
        .map(([i, r]) => ({
          kind: 'docker-logout',
          registry: r.registry ?? cfg.registry,
          record: i,
        }))
    : [];
  const revokes: CleanupStep[] = [];
  if (cfg.revoke && token) {
    for (const [i, r] of open)
      revokes.push({
        kind: 'revoke-lease',
        leaseId: r.leaseId as string,
        token,
        record: i,
        coveredByToken: !s.borrowed,
        ends,
      });
    if (!s.borrowed) {
      // Every lease the token created ends with it, if not before.
      const at = s.vaultTokenExpiresAt;
      const tokenEnds = !at
        ? ''
        : ends
          ? `; the token at ${at}, ending every lease it created`
          : `; it expires on its own at ${at}, with every lease it created`;
      revokes.push({ kind: 'revoke-token', token, whose: 'session', ends: `${ends}${tokenEnds}` });
    }
  } else if (cfg.revoke && s.borrowed && leases.length) {
    // Nothing can revoke them now: the session stays open for a cleanup with VAULT_TOKEN set.
    return [
      ...notes,
      {
        kind: 'note',
        level: 'warn',
        text: `VAULT_TOKEN is not set: cannot revoke ${leases.join(', ')}${ends}.`,
      },
      ...logouts,
    ];
  } else if (leases.length) {
    notes.push({
      kind: 'note',
      level: 'info',
      text: `revoke is off: ${leases.join(', ')} stay${leases.length > 1 ? '' : 's'} alive${ends}.`,
    });
  }
  return [...notes, ...logouts, ...revokes, ...done(cfg)];
}

/**
 * The credential-helper mode: every lease the helper made and every Vault token of the job (read
 * from the job directory), then the directory itself.
 */
function jobSteps({ state: s, cfg, now }: CleanupInput, dir: string, job: JobDirContents) {
  const steps: CleanupStep[] = [];
  if (!job.present)
    steps.push({ kind: 'note', level: 'info', text: `The job directory ${dir} is gone already.` });
  const tokens = [...new Set([...job.tokens, s.vaultToken])].filter((t): t is string => Boolean(t));
  for (const secret of tokens) steps.push({ kind: 'mask', secret });
  const leases = [...new Map(job.leases.map((l) => [l.leaseId, l])).values()];
  const live = leases.filter((l) => !l.endsAt || l.endsAt > now);
  const lastEnd = Math.max(now, ...leases.map((l) => l.endsAt ?? 0));
  const ends = ` It ends on its own by ${new Date(lastEnd).toISOString()}.`;
  const [token] = tokens;
  if (cfg.revoke && token) {
    for (const l of live)
      steps.push({ kind: 'revoke-lease', leaseId: l.leaseId, token, coveredByToken: true, ends });
    for (const t of tokens) steps.push({ kind: 'revoke-token', token: t, whose: 'job', ends });
    steps.push({ kind: 'job-summary', live: live.length, made: leases.length });
  } else if (live.length)
    steps.push({
      kind: 'note',
      level: 'info',
      text: `revoke is off: ${live.map((l) => l.leaseId).join(', ')} stay alive.${ends}`,
    });
  if (job.present) steps.push({ kind: 'remove-job-dir', dir });
  return [...steps, ...done(cfg)];
}

const done = (cfg: CleanupInput['cfg']): CleanupStep[] =>
  cfg.revoke ? [{ kind: 'mark-done' }] : [];
