// The one loader of the host entry points' configuration file: every section judged by its one
// schema, by every entry point; one duration form; refusals that name the file and the key.
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/core/duration.js';
import { type HostEntryPoint, parseHostConfig } from '../../src/core/host-config.js';
import { helperSettings } from '../../src/credential-helper/settings.js';
import { kubeletSettings } from '../../src/kubelet-provider/settings.js';

const FILE = '/etc/vault-docker-login/config.yml';
const HELPER: HostEntryPoint = { label: 'helper', registries: 'required' };
const DRIVER: HostEntryPoint = { label: 'driver', registries: { refused: 'is not used here.' } };
const REGISTRIES = [{ registry: 'registry.test', secret_path: 'secret/data/x' }];
const base = { vault: { url: 'http://127.0.0.1:8200' }, registries: REGISTRIES };

const load = (doc: Record<string, unknown>, entry: HostEntryPoint = HELPER) =>
  parseHostConfig(doc, {}, { file: FILE, ...entry });
const refusal = (doc: Record<string, unknown>, entry: HostEntryPoint = HELPER) =>
  load(doc, entry).then(
    () => 'accepted',
    (err: Error) => err.message,
  );

describe('one duration form', () => {
  it.each([
    ['30', 30],
    [30, 30],
    ['30s', 30],
    ['5m', 300],
    ['1m30s', 90],
    ['1h30m', 5400],
    ['0', 0],
    [0, 0],
  ])('%j is %d s', (value, seconds) => {
    expect(parseDuration(value)).toBe(seconds);
  });

  it.each(['', '1.5h', '-1m', '5 minutes', '1d', 1.5, -1, true, null])('%j is refused', (v) => {
    expect(parseDuration(v)).toBeUndefined();
  });

  it('is what every duration key takes, and a refusal names the key', async () => {
    const cfg = await load({
      ...base,
      vault: { url: 'http://127.0.0.1:8200', timeout: '1m30s' },
      credential_helper: { renew_before: '2m', static_ttl: 45 },
      kubelet: { cache_margin: '30', default_cache_duration: '1h' },
    });
    expect(cfg.connection.timeoutMs).toBe(90_000);
    expect(helperSettings(cfg.sections.credential_helper)).toMatchObject({
      renewBeforeMs: 120_000,
      staticTtlMs: 45_000,
    });
    expect(kubeletSettings(cfg.sections.kubelet, FILE, 1)).toMatchObject({
      cacheMarginS: 30,
      defaultCacheS: 3600,
    });
    expect(await refusal({ ...base, kubelet: { cache_margin: '5 minutes' } })).toBe(
      `Config file ${FILE}: key "kubelet.cache_margin": must be whole seconds or a duration such as 30, 30s, 5m or 1m30s; got "5 minutes".`,
    );
    expect(await refusal({ ...base, credential_helper: { static_ttl: '25h' } })).toMatch(
      /key "credential_helper\.static_ttl": must be .*, at most 24h; got "25h"\./,
    );
    expect(await refusal({ ...base, vault: { timeout: 'soon' } })).toMatch(/key "vault\.timeout"/);
  });
});

describe('one file for every host entry point', () => {
  const shared = {
    ...base,
    auth: { method: 'token_file', token_file: '/run/vault-agent/token' },
    credential_helper: { on_error: 'anonymous' },
    kubelet: { cache_key_type: 'Image', role_annotation: 'example.com/vault-role' },
    driver: { socket: '/run/docker/plugins/vault.sock' },
  };

  it("accepts its siblings' sections, and each gets its own", async () => {
    const cfg = await load(shared);
    expect(helperSettings(cfg.sections.credential_helper).onError).toBe('anonymous');
    expect(kubeletSettings(cfg.sections.kubelet, FILE, 1)).toMatchObject({
      cacheKeyType: 'Image',
      roleAnnotation: 'example.com/vault-role',
    });
    expect(cfg.sections.driver.socket).toBe('/run/docker/plugins/vault.sock');
  });

  it("judges a sibling's section too: a typo is found by whichever entry point reads first", async () => {
    expect(await refusal({ ...shared, kubelet: { cache_key_typ: 'Image' } })).toBe(
      `Config file ${FILE}: key "kubelet.cache_key_typ": is not a known key; expected one of cache_key_type, cache_margin, default_cache_duration, role_annotation.`,
    );
    expect(await refusal({ ...shared, credential_helper: 'yes' })).toBe(
      `Config file ${FILE}: key "credential_helper": must be a mapping.`,
    );
  });

  it('takes the kebab-case spellings and leaves an empty key unset', async () => {
    const cfg = await load({
      ...base,
      vault: { url: 'http://127.0.0.1:8200', 'auth-namespace': 'team', namespace: '' },
      'credential-helper': { 'on-error': 'anonymous' },
    });
    expect(cfg.connection.authNamespace).toBe('team');
    expect(cfg.connection.namespace).toBeUndefined();
    expect(cfg.sections.credential_helper.on_error).toBe('anonymous');
  });

  it('requires registries for the helper and the provider, and the driver refuses them', async () => {
    expect(await refusal({ vault: base.vault })).toMatch(/key "registries": is required/);
    expect(await refusal(base, DRIVER)).toBe(
      `Config file ${FILE}: key "registries": is not used here.`,
    );
    expect((await load({ vault: base.vault }, DRIVER)).entries).toEqual([]);
  });
});

describe('each section refuses what it cannot use, naming the key', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'an unknown top-level key',
      { surprise: 1 },
      /key "surprise": is not a known key; expected one of vault, auth, registries/,
    ],
    ['an unknown vault key', { vault: { adress: 'x' } }, /key "vault\.adress": is not a known key/],
    [
      'a non-boolean flag',
      { vault: { tls_skip_verify: 'maybe' } },
      /key "vault\.tls_skip_verify": must be true or false; got "maybe"/,
    ],
    [
      'an unknown method',
      { auth: { method: 'ldap' } },
      /key "auth\.method": must be one of token, token_file, jwt, approle; got "ldap"/,
    ],
    [
      'a key of another method',
      { auth: { method: 'jwt', role: 'r', token_file: '/t' } },
      /key "auth\.token_file": is not a known key; expected one of method, mount, role, jwt_file/,
    ],
    [
      'a method without its key',
      { auth: { method: 'token_file' } },
      /key "auth\.token_file": is required with auth\.method token_file: the Vault Agent sink file/,
    ],
    [
      'a role with a slash',
      { auth: { method: 'jwt', role: 'a/b' } },
      /key "auth\.role": must be a single name/,
    ],
    [
      'both role_id forms',
      { auth: { method: 'approle', role_id: 'r', role_id_file: '/f', secret_id_file: '/s' } },
      /key "auth\.role_id": or auth\.role_id_file is required \(one of them\)/,
    ],
    [
      'a relative state_dir',
      { auth: { method: 'approle', role_id: 'r', secret_id_file: '/s', state_dir: 'x' } },
      /key "auth\.state_dir": must be an absolute path; got "x"/,
    ],
    [
      'a bad engine mount',
      { engine_mount: '/dockerhub' },
      /key "engine_mount": must not start with "\/"/,
    ],
    [
      'a bad on_error',
      { credential_helper: { on_error: 'retry' } },
      /key "credential_helper\.on_error": must be fail \(the default/,
    ],
    [
      'a bad job renew',
      { credential_helper: { job: { renew: 'yes' } } },
      /key "credential_helper\.job\.renew": must be true or false/,
    ],
    [
      'a relogin without its role',
      { credential_helper: { job: { relogin: { identity: 'github' } } } },
      /key "credential_helper\.job\.relogin\.role": is required/,
    ],
    [
      'a relogin without its variable',
      { credential_helper: { job: { relogin: { identity: 'jwt_env', role: 'r' } } } },
      /key "credential_helper\.job\.relogin\.jwt_env": is required with credential_helper\.job\.relogin\.identity jwt_env/,
    ],
    [
      'an unknown identity',
      { credential_helper: { job: { relogin: { identity: 'nope', role: 'r' } } } },
      /must be one of github, jwt_env, jwt_file; got "nope"/,
    ],
    [
      'the old kubelet.state_dir',
      { kubelet: { state_dir: '/x' } },
      /key "kubelet\.state_dir": is not a known key/,
    ],
    [
      'a bad annotation',
      { kubelet: { role_annotation: 'not a key' } },
      /key "kubelet\.role_annotation": must be an annotation key/,
    ],
    [
      'a bad cache key type',
      { kubelet: { cache_key_type: 'Pod' } },
      /key "kubelet\.cache_key_type": must be one of Image, Registry, Global; got "Pod"/,
    ],
    [
      'an unknown driver key',
      { driver: { sock: '/x' } },
      /key "driver\.sock": is not a known key; expected socket\./,
    ],
  ])('%s', async (_, doc, message) => {
    expect(await refusal({ ...base, ...doc })).toMatch(message);
  });

  it('gives each section its defaults and the job its relogin', async () => {
    const cfg = await load({
      ...base,
      auth: { method: 'token_file', token_file: '/t' },
      credential_helper: {
        job: { relogin: { identity: 'jwt_env', jwt_env: 'VAULT_ID_TOKEN', role: 'r' } },
      },
    });
    expect(helperSettings(cfg.sections.credential_helper)).toEqual({
      onError: 'fail',
      renewBeforeMs: 60_000,
      staticTtlMs: 300_000,
      job: {
        renew: true,
        relogin: { identity: { kind: 'jwt_env', name: 'VAULT_ID_TOKEN' }, mount: 'jwt', role: 'r' },
      },
    });
    expect(kubeletSettings(cfg.sections.kubelet, FILE, 2)).toEqual({
      cacheKeyType: 'Registry',
      cacheMarginS: 30,
      defaultCacheS: undefined,
      roleAnnotation: 'vault-docker-login.io/role',
    });
    expect(cfg.auth).toEqual({ method: 'token_file', tokenFile: '/t' });
    expect(cfg.engineMount).toBe('dockerhub');
    expect(() => kubeletSettings({ cache_key_type: 'Global' }, FILE, 2)).toThrow(
      /needs exactly one registries entry \(there are 2\)/,
    );
  });
});
