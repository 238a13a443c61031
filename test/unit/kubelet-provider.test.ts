// The provider's pure parts: Go durations out (read back by the kubelet's parser), settings,
// which registries entry serves an image, and the request's checks.
import { describe, expect, it } from 'vitest';
import { entryForImage } from '../../src/core/image-entry.js';
import type { Entry } from '../../src/core/registry-entries.js';
import { imageRef } from '../../src/core/registry-name.js';
import { goDuration } from '../../src/kubelet-provider/duration.js';
import { parseRequest } from '../../src/kubelet-provider/request.js';
import { parseGoDuration } from '../harness/go-duration.js';

describe('Go durations', () => {
  it.each([
    [0, '0s'],
    [59, '59s'],
    [60, '1m0s'],
    [270, '4m30s'],
    [3600, '1h0m0s'],
    [3661, '1h1m1s'],
    [90000, '25h0m0s'],
    [-5, '0s'],
    [89.9, '1m29s'],
  ])('%d s is %s, which the kubelet reads back', (seconds, text) => {
    expect(goDuration(seconds)).toBe(text);
    expect(parseGoDuration(text)).toBe(Math.max(0, Math.floor(seconds)) * 1000);
  });
});

describe('which entry serves an image', () => {
  const entry = (registry: string): Entry => ({
    registry,
    source: { path: `secret/data/${registry}`, method: 'read' },
    fields: {},
  });
  const entries = [
    entry('docker.io'),
    entry('ghcr.io'),
    entry('ghcr.io/acme'),
    entry('127.0.0.1:5000'),
  ];

  it.each([
    ['nginx', 'docker.io', ''],
    ['index.docker.io/library/nginx:1', 'docker.io', ''],
    ['ghcr.io/other/app', 'ghcr.io', ''],
    ['ghcr.io/acme/app@sha256:abc', 'ghcr.io/acme', 'acme'],
    ['ghcr.io/acme', 'ghcr.io/acme', 'acme'],
    ['ghcr.io/acmecorp/app', 'ghcr.io', ''],
    ['GHCR.io/acme/app', 'ghcr.io/acme', 'acme'],
    ['127.0.0.1:5000/a/b:2', '127.0.0.1:5000', ''],
  ])('%s: %s', (image, registry, scope) => {
    expect(entryForImage(entries, image)).toMatchObject({ entry: { registry }, scope });
  });

  it('none for a registry without an entry (another port is another registry)', () => {
    expect(entryForImage(entries, '127.0.0.1:5001/a')).toBeUndefined();
    expect(entryForImage(entries, 'quay.io/a')).toBeUndefined();
  });

  it.each([
    ['nginx', { host: '', registry: 'docker.io', path: 'library/nginx' }],
    ['localhost/app:1', { host: 'localhost', registry: 'localhost', path: 'app' }],
    ['localhost:5000/a/b', { host: 'localhost:5000', registry: 'localhost:5000', path: 'a/b' }],
    ['docker.io/acme/app:tag', { host: 'docker.io', registry: 'docker.io', path: 'acme/app' }],
  ])('imageRef(%s)', (image, ref) => {
    expect(imageRef(image)).toEqual(ref);
  });
});

describe('the request', () => {
  const base = {
    apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
    kind: 'CredentialProviderRequest',
    image: 'r.example/app',
  };

  it('takes the image, the token and the annotations, and tolerates fields it does not know', () => {
    expect(
      parseRequest(
        JSON.stringify({
          ...base,
          serviceAccountToken: ' eyJ.x.y ',
          serviceAccountAnnotations: { 'a.io/role': 'r' },
          future: true,
        }),
      ),
    ).toEqual({
      apiVersion: base.apiVersion,
      image: 'r.example/app',
      serviceAccountToken: 'eyJ.x.y',
      annotations: { 'a.io/role': 'r' },
    });
    expect(
      parseRequest(
        JSON.stringify({ ...base, apiVersion: 'credentialprovider.kubelet.k8s.io/v1beta1' }),
      ).apiVersion,
    ).toBe('credentialprovider.kubelet.k8s.io/v1beta1');
  });

  it.each([
    ['', /stdin is empty/],
    ['[]', /not a JSON object/],
    [JSON.stringify({ ...base, image: '' }), /names no image/],
    [JSON.stringify({ ...base, serviceAccountToken: 5 }), /serviceAccountToken is not a string/],
    [
      JSON.stringify({ ...base, serviceAccountAnnotations: { a: 1 } }),
      /serviceAccountAnnotations\.a is not a string/,
    ],
    [JSON.stringify({ ...base, apiVersion: undefined }), /apiVersion is null/],
  ])('%s is refused', (stdin, re) => {
    expect(() => parseRequest(stdin)).toThrow(re);
  });

  it('never repeats stdin, even in part', () => {
    const secret = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0.c2ln';
    for (const stdin of [secret, `{"serviceAccountToken":"${secret}"`, `{${secret}}`]) {
      const err = (() => {
        try {
          parseRequest(stdin);
        } catch (e) {
          return e as Error & { hint?: string };
        }
      })();
      expect(`${err?.message} ${err?.hint}`).not.toContain(secret.slice(0, 12));
    }
  });
});
