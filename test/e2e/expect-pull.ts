// "It works" and "it is revoked", proven by pulls of the private image through the real daemon.
import { cpSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { DaemonEnv, DockerVia } from '../harness/types.js';

/** The daemon's own errors: no credential for the registry, and a credential it refuses. */
export const PULL_DENIED =
  /pull access denied for .*may require 'docker login': denied: requested access to the resource is denied/;
export const CREDENTIAL_REFUSED = /unauthorized: incorrect username or password/;

/**
 * `docker login` as `username` went through the daemon: dockerd asked the token service for it
 * (among the token requests from index `since` on).
 */
export function expectLoginThroughDaemon(env: DaemonEnv, username: string, since = 0): void {
  const agents = env.registry.authRequests
    .slice(since)
    .filter((r) => r.username === username)
    .map((r) => r.userAgent);
  expect(agents).toContainEqual(
    expect.stringMatching(/^docker\/.* UpstreamClient\(Docker-Client\//),
  );
}

/**
 * Pulls the private image with the job's docker config (it must succeed), and returns a copy of
 * that config, to show after cleanup that the credential it held is refused.
 */
export async function expectPullWorks(
  env: DaemonEnv,
  dockerConfig: string,
  via?: DockerVia,
): Promise<string> {
  const r = await env.daemon.pull(env.privateImage, dockerConfig, via);
  expect(r.code, r.stderr).toBe(0);
  const copy = mkdtempSync(join(env.tmpDir, 'docker-config-copy-'));
  cpSync(join(dockerConfig, 'config.json'), join(copy, 'config.json'));
  return copy;
}

/**
 * After cleanup: the job's config pulls nothing (logout left no credential), and the credential
 * it held before (`copy`) is refused by the registry (revoked).
 */
export async function expectPullRefused(
  env: DaemonEnv,
  dockerConfig: string,
  copy: string,
  via?: DockerVia,
): Promise<void> {
  const anonymous = await env.daemon.pull(env.privateImage, dockerConfig, via);
  expect(anonymous.code).toBe(1);
  expect(anonymous.stderr).toMatch(PULL_DENIED);
  const revoked = await env.daemon.pull(env.privateImage, copy, via);
  expect(revoked.code).toBe(1);
  expect(revoked.stderr).toMatch(CREDENTIAL_REFUSED);
}
