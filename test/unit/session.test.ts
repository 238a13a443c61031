// The login and cleanup flows over fakes: ordering of masks, state, and cleanup after failures.
import { describe, expect, it } from 'vitest';
import { cleanup } from '../../src/core/cleanup-run.js';
import { parseConfig } from '../../src/core/config.js';
import { VaultHttpError } from '../../src/core/errors.js';
import type { Exec } from '../../src/core/exec.js';
import { login, type SessionDeps } from '../../src/core/session.js';
import type { SessionState } from '../../src/core/session-state.js';
import type { VaultClient } from '../../src/core/vault.js';

const cfg = parseConfig({ url: 'https://v.test', role: 'ci', account: 'bot', registry: 'r.test' });

function fakes(opts: { dockerFails?: boolean; issueFails?: boolean; revokeFails?: boolean } = {}) {
  const log: string[] = [];
  let state: SessionState = {};
  const vault = {
    jwtLogin: async () => ({ token: 'hvs.VAULT', policies: ['p'], leaseDuration: 60 }),
    call: async () => {
      if (opts.issueFails) throw new VaultHttpError(403, 'x', ['permission denied']);
      return {
        lease_id: 'dockerhub/token/bot/read/L',
        lease_duration: 300,
        data: { username: 'bot', token: 'dckr_pat_SECRET' },
      };
    },
    revokeLease: async () => {
      log.push('revokeLease');
      return 'forbidden' as const;
    },
    revokeSelf: async () => {
      log.push('revokeSelf');
      if (opts.revokeFails) throw new VaultHttpError(503, 'auth/token/revoke-self', ['sealed']);
      return 'revoked' as const;
    },
  } as unknown as VaultClient;
  const exec: Exec = async (cmd, args, o) => {
    log.push(`${cmd} ${args.join(' ')}${o?.input ? ' <stdin>' : ''}`);
    return {
      code: opts.dockerFails && args[0] === 'login' ? 1 : 0,
      stdout: '',
      stderr: opts.dockerFails ? 'unauthorized' : '',
    };
  };
  const deps: SessionDeps = {
    identity: { getToken: async () => 'eyJ.JWT.sig' },
    masker: { mask: (s) => log.push(`mask ${s}`) },
    logger: {
      info: (m) => log.push(`info ${m}`),
      warn: (m) => log.push(`warn ${m}`),
      debug: () => {},
    },
    state: {
      load: () => state,
      save: (p) => {
        state = { ...state, ...p };
      },
    },
    exec,
    clock: { now: () => 0, sleep: async () => {} },
    vault,
  };
  return { deps, log, state: () => state };
}

describe('session', () => {
  it('masks each secret before anything else mentions it; the secret goes over stdin', async () => {
    const f = fakes();
    const out = await login(cfg, f.deps);
    expect(out).toEqual({
      username: 'bot',
      registry: 'r.test',
      leaseId: 'dockerhub/token/bot/read/L',
      leaseDuration: 300,
      expiresAt: new Date(300_000).toISOString(),
    });
    const first = (s: string) => f.log.findIndex((l) => l.includes(s));
    for (const secret of [
      'eyJ.JWT.sig',
      'hvs.VAULT',
      'dckr_pat_SECRET',
      Buffer.from('bot:dckr_pat_SECRET').toString('base64'),
    ]) {
      expect(f.log[first(secret)]).toBe(`mask ${secret}`);
    }
    expect(f.log).toContain('docker login --username bot --password-stdin r.test <stdin>');
    expect(f.state()).toMatchObject({
      vaultToken: 'hvs.VAULT',
      leaseId: 'dockerhub/token/bot/read/L',
      loggedIn: true,
    });
  });

  it('revokes before failing when docker login is refused', async () => {
    const f = fakes({ dockerFails: true });
    await expect(login(cfg, f.deps)).rejects.toThrow(/refused the login/);
    expect(f.log).toEqual(expect.arrayContaining(['revokeLease', 'revokeSelf']));
    expect(f.state().done).toBe(true);
    expect(f.log.some((l) => l.startsWith('docker logout'))).toBe(false);
  });

  it('revokes the token when the engine refuses', async () => {
    const f = fakes({ issueFails: true });
    await expect(login(cfg, f.deps)).rejects.toThrow(/Vault denied writing/);
    expect(f.log).toContain('revokeSelf');
  });

  it('cleanup: logout, revoke; a failure is a warning naming the expiry; never throws', async () => {
    const f = fakes({ revokeFails: true });
    await login(cfg, f.deps);
    await cleanup(cfg, f.deps);
    expect(f.log).toContain('docker logout r.test');
    const warn = f.log.find((l) => l.startsWith('warn Could not revoke the Vault token'));
    expect(warn).toContain(`expires on its own at ${new Date(300_000).toISOString()} (TTL 300 s)`);
    // The token's own end (its 60 s TTL) ends the lease sooner.
    expect(warn).toContain(`the token at ${new Date(60_000).toISOString()}, ending every lease`);
  });
});
