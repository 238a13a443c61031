// The kubelet's exec credential provider: one CredentialProviderRequest on stdin, one
// CredentialProviderResponse on stdout, or exit 1 with one line on stderr (the kubelet logs it).
// The Vault token that holds the lease is never revoked: the lease would die with it. The answer's
// cacheDuration ends before either does.
import { hostname } from 'node:os';
import type { VaultLogin } from '../auth/method.js';
import { debugLog } from '../core/debug-log.js';
import { VaultHttpError, VdlError } from '../core/errors.js';
import { entryForImage } from '../core/image-entry.js';
import { issueCredential } from '../core/issue.js';
import { defaultLabel } from '../core/registry-entries.js';
import { createTransport } from '../core/transport.js';
import { VaultClient } from '../core/vault.js';
import { configFlag } from './args.js';
import { cachePlan } from './cache.js';
import { configPath, loadProviderConfig, type ProviderConfig } from './config.js';
import { chooseIdentity, serviceAccountOf } from './identity.js';
import { parseRequest } from './request.js';
import { buildResponse } from './response.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** The kubelet kills a provider after one minute; stop well before, with a message. */
const KUBELET_LIMIT_MS = 50_000;

/** One line, message and fix; the kubelet logs stderr only when the exit code is not 0. */
function oneLine(err: unknown): string {
  const flat = (t: string) => t.replace(/\s*\n\s*/g, ' ').trim();
  const message = flat(err instanceof Error ? err.message : String(err));
  const hint = err instanceof VdlError && err.hint ? flat(err.hint) : '';
  const text = !hint
    ? message
    : /[.!?:)]$/.test(message)
      ? `${message} ${hint}`
      : `${message}. ${hint}`;
  return `vault-credential-provider: ${text}\n`;
}

/** When a token we did not log in for expires (0 TTL: never), so a lease is not cached past it. */
async function borrowedExpiry(
  vault: VaultClient,
  login: VaultLogin,
  cfg: ProviderConfig,
  describe: string,
  now: number,
): Promise<number | undefined> {
  try {
    const ttl = await vault.tokenTtl(login.token, cfg.host.connection.authNamespace);
    return ttl > 0 ? now + ttl * 1000 : undefined;
  } catch (err) {
    if (err instanceof VaultHttpError && err.status === 403)
      throw new VdlError(
        'vault-login',
        `Vault does not accept the token from ${describe} (lookup-self: ${err.errors.join('; ') || 'permission denied'}).`,
        'The token is expired or revoked: check whatever provides it (Vault Agent, VAULT_TOKEN) keeps it fresh.',
      );
    throw err;
  }
}

export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv,
  stdin: string,
  io: Io,
  clock: () => number = Date.now,
): Promise<number> {
  try {
    const file = configPath(configFlag(argv), env);
    const req = parseRequest(stdin);
    const sa = req.serviceAccountToken ? serviceAccountOf(req.serviceAccountToken) : undefined;
    const cfg = await loadProviderConfig(
      file,
      env,
      defaultLabel(['kubelet', hostname(), sa ?? '']),
    );
    const { host, kubelet } = cfg;
    const match = entryForImage(host.entries, req.image);
    if (!match)
      throw new VdlError(
        'config',
        `No registries entry in ${file} serves the image ${req.image}.`,
        "Add an entry for its registry, or narrow matchImages of this provider in the kubelet's CredentialProviderConfig.",
      );
    const method = chooseIdentity(host, kubelet, req, { env });

    const start = clock();
    const deadline = start + Math.min(host.connection.timeoutMs, KUBELET_LIMIT_MS);
    const vault = new VaultClient({
      url: host.connection.url,
      transport: createTransport(host.connection.tls, host.connection.names),
      retries: host.connection.retries,
      deadline,
    });
    const login = await method.login(vault, start);

    let tokenExpiresAt = login.expiresAt;
    let cred: Awaited<ReturnType<typeof issueCredential>>;
    try {
      if (!login.revocable)
        tokenExpiresAt = await borrowedExpiry(vault, login, cfg, method.describe, start);
      cred = await issueCredential(
        vault,
        login.token,
        match.entry,
        host.connection,
        { mask() {} },
        clock,
      );
    } catch (err) {
      // Nothing was leased with a token we logged in for: do not leave it alive.
      if (login.revocable)
        await vault.revokeSelf(login.token, host.connection.authNamespace).catch(() => {});
      throw err;
    }

    const plan = cachePlan(kubelet, match, cred, tokenExpiresAt, clock());
    const answer = buildResponse(req.apiVersion, match, cred, plan.cacheKeyType, plan.seconds);
    io.out(`${JSON.stringify(answer)}\n`);
    debugLog(env, 'vault-credential-provider', 'provide', {
      image: req.image,
      registry: match.entry.registry,
      lease: cred.leaseId,
      answer: plan.cacheKeyType,
      cache_s: plan.seconds,
    });
    return 0;
  } catch (err) {
    debugLog(env, 'vault-credential-provider', 'provide', {
      answer: 'failed',
      error: err instanceof VdlError ? err.kind : 'internal',
    });
    io.err(oneLine(err));
    return 1;
  }
}
