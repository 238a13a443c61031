// What cleanup undoes, from the state alone: each kind of state gives its steps, in order.
import { describe, expect, it } from 'vitest';
import { type CleanupInput, planCleanup } from '../../src/core/cleanup-plan.js';

const cfg = { logout: true, revoke: true, registry: 'r.test' };
const LEASE = 'dockerhub/token/bot/read/L';
const at = (ms: number) => new Date(ms).toISOString();
const plan = (input: Partial<CleanupInput>) => planCleanup({ state: {}, cfg, now: 0, ...input });

describe('planCleanup: the single login', () => {
  const loggedIn = {
    vaultToken: 'hvs.T',
    vaultTokenExpiresAt: at(60_000),
    registry: 'r.test',
    leaseId: LEASE,
    leaseDuration: 300,
    expiresAt: at(300_000),
    loggedIn: true,
  };
  const ends = `; it expires on its own at ${at(300_000)} (TTL 300 s)`;

  it('logs out, revokes the lease, then the token, then marks the session done', () => {
    expect(plan({ state: loggedIn })).toEqual([
      { kind: 'docker-logout', registry: 'r.test', record: 0 },
      {
        kind: 'revoke-lease',
        leaseId: LEASE,
        token: 'hvs.T',
        record: 0,
        coveredByToken: true,
        ends,
      },
      {
        kind: 'revoke-token',
        token: 'hvs.T',
        whose: 'session',
        ends: `${ends}; the token at ${at(60_000)}, ending every lease it created`,
      },
      { kind: 'mark-done' },
    ]);
  });

  it('a session already cleaned up, or that never got a token, has nothing to do', () => {
    expect(plan({ state: { ...loggedIn, done: true } })).toEqual([
      { kind: 'note', level: 'info', text: 'Already cleaned up; nothing to do.' },
    ]);
    expect(plan({ state: { registry: 'r.test' } })).toEqual([
      {
        kind: 'note',
        level: 'info',
        text: 'Nothing to clean up: the login step did not get a Vault token.',
      },
    ]);
  });

  it('every registry: logs out of each logged-in one; skips a revoked or ended lease', () => {
    const state = {
      ...loggedIn,
      others: [
        { registry: 'b.test', leaseId: 'kv/B', expiresAt: at(100_000), loggedIn: true },
        { registry: 'c.test', leaseId: 'kv/C', revoked: true },
        { registry: 'd.test', leaseId: 'kv/D', expiresAt: at(5_000), loggedIn: false },
      ],
    };
    const steps = plan({ state, now: 10_000 });
    expect(steps[0]).toEqual({
      kind: 'note',
      level: 'info',
      text: `Lease kv/D ended on its own at ${at(5_000)}.`,
    });
    expect(steps.filter((s) => s.kind === 'docker-logout')).toEqual([
      { kind: 'docker-logout', registry: 'r.test', record: 0 },
      { kind: 'docker-logout', registry: 'b.test', record: 1 },
    ]);
    expect(
      steps.filter((s) => s.kind === 'revoke-lease').map((s) => [s.leaseId, s.record]),
    ).toEqual([
      [LEASE, 0],
      ['kv/B', 1],
    ]);
  });

  it('a token without a lease end: the warning names the token’s own end', () => {
    const steps = plan({ state: { vaultToken: 'hvs.T', vaultTokenExpiresAt: at(60_000) } });
    expect(steps).toEqual([
      {
        kind: 'revoke-token',
        token: 'hvs.T',
        whose: 'session',
        ends: `; it expires on its own at ${at(60_000)}, with every lease it created`,
      },
      { kind: 'mark-done' },
    ]);
  });

  it('logout off: no docker logout; revoke off: a note, and the session stays open', () => {
    expect(plan({ state: loggedIn, cfg: { ...cfg, logout: false } }).map((s) => s.kind)).toEqual([
      'revoke-lease',
      'revoke-token',
      'mark-done',
    ]);
    expect(plan({ state: loggedIn, cfg: { ...cfg, revoke: false } })).toEqual([
      { kind: 'note', level: 'info', text: `revoke is off: ${LEASE} stays alive${ends}.` },
      { kind: 'docker-logout', registry: 'r.test', record: 0 },
    ]);
  });

  it('a borrowed token revokes each lease itself and is never revoked', () => {
    const state = { ...loggedIn, vaultToken: undefined, borrowed: true };
    expect(plan({ state, borrowedToken: 'hvs.MINE' })).toEqual([
      { kind: 'docker-logout', registry: 'r.test', record: 0 },
      {
        kind: 'revoke-lease',
        leaseId: LEASE,
        token: 'hvs.MINE',
        record: 0,
        coveredByToken: false,
        ends,
      },
      { kind: 'mark-done' },
    ]);
  });

  it('a borrowed token no longer set: a warning, and the session stays open for a retry', () => {
    const state = { ...loggedIn, vaultToken: undefined, borrowed: true };
    expect(plan({ state })).toEqual([
      {
        kind: 'note',
        level: 'warn',
        text: `VAULT_TOKEN is not set: cannot revoke ${LEASE}${ends}.`,
      },
      { kind: 'docker-logout', registry: 'r.test', record: 0 },
    ]);
  });
});

describe('planCleanup: the credential-helper job mode', () => {
  const dir = '/tmp/vault-docker-login-job-x';
  const state = { jobDir: dir, vaultToken: 'hvs.LOGIN' };
  const contents = {
    present: true,
    leases: [
      { leaseId: 'kv/1', endsAt: 5_000 },
      { leaseId: 'kv/2', endsAt: 400_000 },
      { leaseId: 'kv/1', endsAt: 5_000 },
    ],
    tokens: ['hvs.FILE', 'hvs.RENEWED', 'hvs.FILE'],
  };
  const ends = ` It ends on its own by ${at(400_000)}.`;

  it('masks every token, revokes each live lease and every token, counts, removes the directory', () => {
    expect(plan({ state, jobDir: contents, now: 10_000 })).toEqual([
      { kind: 'mask', secret: 'hvs.FILE' },
      { kind: 'mask', secret: 'hvs.RENEWED' },
      { kind: 'mask', secret: 'hvs.LOGIN' },
      { kind: 'revoke-lease', leaseId: 'kv/2', token: 'hvs.FILE', coveredByToken: true, ends },
      { kind: 'revoke-token', token: 'hvs.FILE', whose: 'job', ends },
      { kind: 'revoke-token', token: 'hvs.RENEWED', whose: 'job', ends },
      { kind: 'revoke-token', token: 'hvs.LOGIN', whose: 'job', ends },
      { kind: 'job-summary', live: 1, made: 2 },
      { kind: 'remove-job-dir', dir },
      { kind: 'mark-done' },
    ]);
  });

  it('a directory gone already: said, only the state’s token revoked, nothing removed', () => {
    const gone = { present: false, leases: [], tokens: [] };
    const end = ` It ends on its own by ${at(10_000)}.`;
    expect(plan({ state, jobDir: gone, now: 10_000 })).toEqual([
      { kind: 'note', level: 'info', text: `The job directory ${dir} is gone already.` },
      { kind: 'mask', secret: 'hvs.LOGIN' },
      { kind: 'revoke-token', token: 'hvs.LOGIN', whose: 'job', ends: end },
      { kind: 'job-summary', live: 0, made: 0 },
      { kind: 'mark-done' },
    ]);
    expect(plan({ state, now: 10_000 })).toEqual(plan({ state, jobDir: gone, now: 10_000 }));
  });

  it('revoke off: the live leases are named, the directory still goes, the session stays open', () => {
    expect(plan({ state, jobDir: contents, now: 10_000, cfg: { ...cfg, revoke: false } })).toEqual([
      { kind: 'mask', secret: 'hvs.FILE' },
      { kind: 'mask', secret: 'hvs.RENEWED' },
      { kind: 'mask', secret: 'hvs.LOGIN' },
      { kind: 'note', level: 'info', text: `revoke is off: kv/2 stay alive.${ends}` },
      { kind: 'remove-job-dir', dir },
    ]);
  });

  it('no docker logout: the job never ran docker login', () => {
    const steps = plan({ state: { ...state, loggedIn: true }, jobDir: contents });
    expect(steps.some((s) => s.kind === 'docker-logout')).toBe(false);
  });

  it('already cleaned up: nothing to do', () => {
    expect(plan({ state: { ...state, done: true }, jobDir: contents })).toEqual([
      { kind: 'note', level: 'info', text: 'Already cleaned up; nothing to do.' },
    ]);
  });
});
