// The kubelet emulation itself: it must refuse what the real kubelet refuses, or the provider's
// end-to-end tests prove nothing. A stand-in provider answers whatever the test sets in the
// config's env; the rest are the kubelet's parsing and matching rules.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGoDuration } from '../harness/go-duration.js';
import { isDefaultRegistryMatch, keyringLookup, urlsMatchStr } from '../harness/keyring.js';
import { Kubelet, normalizedName, type Pod } from '../harness/kubelet.js';
import { parseKubeletConfig } from '../harness/kubelet-config.js';

const dir = mkdtempSync(join(tmpdir(), 'vdl-kubelet-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Go durations (metav1.Duration)', () => {
  it.each([
    ['4m30s', 270_000],
    ['1h0m0s', 3_600_000],
    ['0', 0],
    ['-0', 0],
    ['0s', 0],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['1.s', 1000],
    ['300ms', 300],
    ['2h45m', 9_900_000],
    ['-1.5h', -5_400_000],
    ['3us', 0.003],
    ['3\u00b5s', 0.003],
    ['3\u03bcs', 0.003],
    ['10ns', 0.00001],
  ])('%s = %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 6);
  });

  it.each(['', '1', '5 minutes', '.', '1x', 's', '1h-2m', '4m30', '9999999999h'])(
    '%j is refused',
    (text) => {
      expect(() => parseGoDuration(text)).toThrow(/^time: /);
    },
  );
});

describe('keyring matching (URLsMatchStr, the Docker Hub default)', () => {
  it.each([
    ['*.k8s.io', 'a.k8s.io/app', true],
    ['*.io', 'a.k8s.io/app', false],
    ['k8s.*.io', 'k8s.a.io/app', true],
    ['app*.k8s.io', 'apps.k8s.io/x', true],
    ['registry.io:8080/path', 'registry.io:8080/path/app', true],
    ['registry.io:8080/path', 'registry.io:8080/other', false],
    ['registry.io:8080', 'registry.io/app', false],
    ['registry.io', 'registry.io:8080/app', false],
    ['127.0.0.1:5000', '127.0.0.1:5000/private/app', true],
    ['docker.io', 'docker.io/library/nginx', true],
    ['index.docker.io', 'docker.io/library/nginx', false],
  ])('%s against %s: %s', (glob, image, match) => {
    expect(urlsMatchStr(glob, image)).toBe(match);
  });

  it('an image without a host gets only the index.docker.io entry', () => {
    const cred = { username: 'u', password: 'p' };
    expect(keyringLookup({ 'docker.io': cred }, 'nginx')).toEqual([]);
    expect(keyringLookup({ 'index.docker.io': cred }, 'nginx')).toEqual([cred]);
    expect(keyringLookup({ 'https://index.docker.io/v1/': cred }, 'library/nginx')).toEqual([cred]);
    expect(keyringLookup({ 'index.docker.io': cred }, 'docker.io/library/nginx')).toEqual([cred]);
    expect(keyringLookup({ 'index.docker.io': cred }, 'ghcr.io/acme/app')).toEqual([]);
    expect(isDefaultRegistryMatch('localhost/app')).toBe(true);
    expect(isDefaultRegistryMatch('localhost:5000/app')).toBe(false);
  });

  it('longer keys come first', () => {
    const a = { username: 'a', password: '1' };
    const b = { username: 'b', password: '2' };
    expect(keyringLookup({ 'quay.io': a, 'quay.io/acme': b }, 'quay.io/acme/app')).toEqual([b, a]);
  });

  it.each([
    ['nginx', 'docker.io/library/nginx'],
    ['nginx:1.27', 'docker.io/library/nginx'],
    ['acme/app:2', 'docker.io/acme/app'],
    ['index.docker.io/library/nginx', 'docker.io/library/nginx'],
    ['127.0.0.1:5000/private/app:1', '127.0.0.1:5000/private/app'],
    ['localhost/app@sha256:abc', 'localhost/app'],
  ])('the image manager pulls %s as %s', (image, name) => {
    expect(normalizedName(image)).toBe(name);
  });
});

describe('CredentialProviderConfig validation', () => {
  const provider = (more: Record<string, unknown> = {}) => ({
    apiVersion: 'kubelet.config.k8s.io/v1',
    kind: 'CredentialProviderConfig',
    providers: [
      {
        name: 'p',
        matchImages: ['r.example'],
        defaultCacheDuration: '1m',
        apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
        ...more,
      },
    ],
  });
  const ta = (more: Record<string, unknown>) => ({
    tokenAttributes: {
      serviceAccountTokenAudience: 'aud',
      cacheType: 'ServiceAccount',
      requireServiceAccount: true,
      ...more,
    },
  });

  it.each([
    [{ matchImage: ['x'] }, /unknown field "providers\[0\]\.matchImage"/],
    [{ defaultCacheDuration: undefined }, /defaultCacheDuration: Required value/],
    [{ apiVersion: 'credentialprovider.kubelet.k8s.io/v2' }, /apiVersion: Unsupported value/],
    [{ name: 'a/b' }, /provider name cannot contain '\/'/],
    [ta({ cacheType: undefined }), /cacheType: Required value/],
    [ta({ cacheType: 'Pod' }), /cacheType: Unsupported value: "Pod"/],
    [ta({ requireServiceAccount: undefined }), /requireServiceAccount: Required value/],
    [
      ta({ requireServiceAccount: false, requiredServiceAccountAnnotationKeys: ['a.io/b'] }),
      /requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set/,
    ],
    [
      ta({
        requiredServiceAccountAnnotationKeys: ['a.io/b'],
        optionalServiceAccountAnnotationKeys: ['a.io/b'],
      }),
      /cannot be both required and optional/,
    ],
    [
      { ...ta({}), apiVersion: 'credentialprovider.kubelet.k8s.io/v1beta1' },
      /tokenAttributes is only supported for credentialprovider\.kubelet\.k8s\.io\/v1/,
    ],
  ])('%j is refused', (more, re) => {
    expect(() => parseKubeletConfig(provider(more))).toThrow(re);
  });

  it('takes a valid one, YAML or parsed', () => {
    expect(parseKubeletConfig(provider(ta({})))[0]?.tokenAttributes?.cacheType).toBe(
      'ServiceAccount',
    );
    expect(
      parseKubeletConfig(
        'apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: [{name: p, matchImages: [r.example], defaultCacheDuration: 0s, apiVersion: credentialprovider.kubelet.k8s.io/v1}]',
      ),
    ).toHaveLength(1);
  });
});

describe('running a provider', () => {
  // Answers ANSWER (with $TOKEN replaced by the request's token); records argv, env and stdin.
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const record = join(dir, 'record.json');
  writeFileSync(
    join(bin, 'stand-in'),
    `#!${process.execPath}
const fs = require('node:fs');
const req = JSON.parse(fs.readFileSync(0, 'utf8'));
fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv.slice(2), env: process.env, req }));
process.stdout.write((process.env.ANSWER || '').replace('$TOKEN', req.serviceAccountToken || ''));
process.exit(Number(process.env.EXIT || 0));
`,
  );
  chmodSync(join(bin, 'stand-in'), 0o755);

  const good = {
    apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
    kind: 'CredentialProviderResponse',
    cacheKeyType: 'Registry',
    cacheDuration: '5m',
    auth: { 'r.example': { username: 'u', password: 'p' } },
  };
  let clock = 0;
  function kubelet(
    answer: unknown,
    more: Record<string, unknown> = {},
    env: Record<string, string> = {},
  ) {
    return new Kubelet({
      binDir: bin,
      env: { PATH: process.env.PATH, KUBELET_OWN: 'yes', ANSWER: 'overridden by the config' },
      now: () => clock,
      requestToken: (p, aud) =>
        `eyJ.${Buffer.from(JSON.stringify({ iat: 0, exp: 3600, sub: p.serviceAccount.name, aud })).toString('base64url')}.sig`,
      config: {
        apiVersion: 'kubelet.config.k8s.io/v1',
        kind: 'CredentialProviderConfig',
        providers: [
          {
            name: 'stand-in',
            matchImages: ['r.example'],
            defaultCacheDuration: '1m',
            apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
            args: ['--flag', 'value'],
            env: Object.entries({
              ANSWER: typeof answer === 'string' ? answer : JSON.stringify(answer),
              ...env,
            }).map(([name, value]) => ({ name, value })),
            ...more,
          },
        ],
      },
    });
  }
  const sa: Pod = { namespace: 'ns', name: 'pod', serviceAccount: { namespace: 'ns', name: 'sa' } };

  it('runs it with the args, its own environment plus the config env, the normalized image on stdin', async () => {
    const k = kubelet(good);
    expect(await k.credentialsFor('r.example/app:1')).toEqual([{ username: 'u', password: 'p' }]);
    const seen = JSON.parse(readFileSync(record, 'utf8'));
    expect(seen.argv).toEqual(['--flag', 'value']);
    expect(seen.env).toMatchObject({ KUBELET_OWN: 'yes', ANSWER: JSON.stringify(good) });
    expect(seen.req).toEqual({
      kind: 'CredentialProviderRequest',
      apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
      image: 'r.example/app',
    });
    // Images outside matchImages never reach it.
    expect(await k.credentialsFor('other.example/app')).toEqual([]);
    expect(k.execs).toHaveLength(1);
  });

  it.each([
    [
      { ...good, apiVersion: 'credentialprovider.kubelet.k8s.io/v1beta1' },
      /did not match expected apiVersion/,
    ],
    [{ ...good, kind: 'CredentialProviderRequest' }, /error decoding/],
    [{ ...good, cacheKeyType: 'Node' }, /did not return a valid cacheKeyType: "Node"/],
    [{ ...good, cacheKeyType: undefined }, /did not return a valid cacheKeyType: ""/],
    [{ ...good, expires: '5m' }, /error decoding/],
    [{ ...good, cacheDuration: '5 minutes' }, /error decoding/],
    [{ ...good, cacheDuration: 300 }, /error decoding/],
    [
      { ...good, auth: { 'r.example': { username: 'u', password: 'p', email: 'e' } } },
      /error decoding/,
    ],
    ['not json', /error reading GVK/],
  ])('drops %j', async (answer, why) => {
    const k = kubelet(answer);
    expect(await k.credentialsFor('r.example/app')).toEqual([]);
    expect(k.execs[0]?.rejected).toMatch(why);
  });

  it('drops an answer from a provider that exits non-zero, whatever it printed', async () => {
    const k = kubelet(good, {}, { EXIT: '1' });
    expect(await k.credentialsFor('r.example/app')).toEqual([]);
  });

  it('caches per cacheKeyType for cacheDuration, the default when absent, not at all for 0', async () => {
    clock = 0;
    const k = kubelet(good);
    await k.credentialsFor('r.example/a');
    await k.credentialsFor('r.example/b');
    expect(k.execs).toHaveLength(1);
    clock = 5 * 60_000 + 1;
    await k.credentialsFor('r.example/a');
    expect(k.execs).toHaveLength(2);

    const image = kubelet({ ...good, cacheKeyType: 'Image', cacheDuration: undefined });
    await image.credentialsFor('r.example/a');
    await image.credentialsFor('r.example/b');
    await image.credentialsFor('r.example/a:2');
    expect(image.execs).toHaveLength(2);
    clock += 60_001;
    await image.credentialsFor('r.example/a');
    expect(image.execs).toHaveLength(3);

    const never = kubelet({ ...good, cacheDuration: '0s' });
    await never.credentialsFor('r.example/a');
    await never.credentialsFor('r.example/a');
    expect(never.execs).toHaveLength(2);
  });

  it('service accounts: token and annotations passed, cache keyed per service account, the token never echoed back', async () => {
    const attrs = (cacheType: string) => ({
      tokenAttributes: {
        serviceAccountTokenAudience: 'aud',
        cacheType,
        requireServiceAccount: true,
        optionalServiceAccountAnnotationKeys: ['a.io/role'],
      },
    });
    const k = kubelet(good, attrs('ServiceAccount'));
    const annotated: Pod = {
      ...sa,
      serviceAccount: {
        namespace: 'ns',
        name: 'sa',
        annotations: { 'a.io/role': 'r', other: 'x' },
      },
    };
    await k.credentialsFor('r.example/a', annotated);
    const seen = JSON.parse(readFileSync(record, 'utf8'));
    expect(seen.req.serviceAccountAnnotations).toEqual({ 'a.io/role': 'r' });
    expect(seen.req.serviceAccountToken).toMatch(/^eyJ/);
    await k.credentialsFor('r.example/b', { ...annotated, name: 'pod-2' });
    expect(k.execs).toHaveLength(1);
    await k.credentialsFor('r.example/a', {
      ...sa,
      serviceAccount: { namespace: 'ns', name: 'other' },
    });
    expect(k.execs).toHaveLength(2);
    // Without a service account and requireServiceAccount: not run at all.
    expect(await k.credentialsFor('r.example/a', { namespace: 'ns', name: 'static' })).toEqual([]);
    expect(k.execs).toHaveLength(2);

    const echo = { ...good, auth: { 'r.example': { username: 'u', password: '$TOKEN' } } };
    const echoing = kubelet(echo, attrs('ServiceAccount'));
    expect(await echoing.credentialsFor('r.example/a', sa)).toEqual([]);
    expect(echoing.execs[0]?.rejected).toMatch(/service account token came back as the password/);
    expect(await kubelet(echo, attrs('Token')).credentialsFor('r.example/a', sa)).toHaveLength(1);
  });
});
