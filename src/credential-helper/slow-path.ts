// Everything that needs the configuration parsed and Vault: a `get` the cache cannot answer, and
// `erase`. Loaded with import() only then, so a cached `get` never loads the parser, zod or undici.
import { privateDir } from '../core/private-dir.js';
import { registryKey } from '../core/registry-name.js';
import {
  CACHE_DIR_HINT,
  type CacheDoc,
  type CachedCredential,
  emptyCache,
  held,
  lookup,
  readCache,
  writeCache,
} from './cache.js';
import { withLock } from './lock.js';
import { configFailure, getFailure } from './messages.js';
import { type MintContext, mint, sourceOf } from './mint.js';
import { answer, fail, notFound } from './protocol.js';
import type { HelperRequest } from './request.js';
import { revokeRegistry } from './revoke.js';
import { type HelperConfig, loadHelperConfig, SECTION } from './settings.js';

/** A waiter shares the failure of the holder it waited for, for this long at most. */
const FAILURE_KEPT_MS = 60_000;

type Outcome =
  | { kind: 'hit'; entry: CachedCredential }
  | { kind: 'not-found' }
  | { kind: 'failed'; message: string };

/** Puts a registry's credential aside; kept while it works and has something to revoke. */
function retire(doc: CacheDoc, key: string, now: number): void {
  const e = doc.entries[key];
  if (!e) return;
  delete doc.entries[key];
  if ((e.leaseId || e.token) && (e.endsAt ?? e.useUntil) > now) doc.retired.push({ key, ...e });
}

/**
 * The cache brought up to the configuration just read: a credential whose source was edited is
 * retired (an unchanged one stays valid through any other edit), what has ended is dropped.
 */
function reconcile(
  doc: CacheDoc | undefined,
  req: HelperRequest,
  cfg: HelperConfig,
  now: number,
): CacheDoc {
  const next = doc && doc.config === req.configFile ? doc : emptyCache(req.configFile, req.stamp);
  const sources = new Map(cfg.host.entries.map((e) => [registryKey(e.registry), sourceOf(cfg, e)]));
  next.stamp = req.stamp;
  next.registries = [...sources.keys()];
  for (const [k, e] of Object.entries(next.entries))
    if (sources.get(k) !== e.source || (e.endsAt ?? e.useUntil) <= now) retire(next, k, now);
  next.retired = next.retired.filter((r) => (r.endsAt ?? r.useUntil) > now);
  if (next.vault?.expiresAt !== undefined && next.vault.expiresAt <= now) next.vault = undefined;
  for (const [k, f] of Object.entries(next.failures))
    if (now - f.at > FAILURE_KEPT_MS) delete next.failures[k];
  return next;
}

async function load(req: HelperRequest): Promise<HelperConfig> {
  const cfg = await loadHelperConfig(req.configFile, req.env);
  privateDir(req.files.dir, CACHE_DIR_HINT);
  return cfg;
}

/** Waiting covers a holder that spends its whole Vault time limit, and its revocations. */
function lockTimes(cfg: HelperConfig, now: number) {
  const t = cfg.host.connection.timeoutMs;
  return { deadline: now + 2 * t + 5_000, staleMs: 2 * t + 30_000 };
}

async function obtain(req: HelperRequest, cfg: HelperConfig): Promise<Outcome> {
  const entry = cfg.host.entries.find((e) => registryKey(e.registry) === req.key);
  const started = Date.now();
  const where = { key: req.key, file: req.configFile, vaultUrl: cfg.host.connection.url };
  return withLock<Outcome>(
    req.files.lock,
    {
      ...lockTimes(cfg, started),
      poll() {
        const doc = readCache(req.files);
        const l = lookup(doc, req.configFile, req.stamp, req.key, Date.now());
        if (l.kind !== 'miss') return l;
        const f = doc?.failures[req.key];
        return f && f.at >= started ? { kind: 'failed', message: f.message } : undefined;
      },
    },
    async () => {
      const doc = reconcile(readCache(req.files), req, cfg, Date.now());
      const save = () => writeCache(req.files, doc);
      const again = lookup(doc, req.configFile, req.stamp, req.key, Date.now());
      if (again.kind === 'hit' || !entry) {
        save();
        return again.kind === 'hit' ? again : { kind: 'not-found' };
      }
      const ctx: MintContext = { cfg, env: req.env, doc, save };
      try {
        const minted = await mint(ctx, entry);
        retire(doc, req.key, Date.now());
        doc.entries[req.key] = minted;
        delete doc.failures[req.key];
        save();
        return { kind: 'hit', entry: minted };
      } catch (err) {
        const message = getFailure(err, where);
        doc.failures[req.key] = { at: Date.now(), message };
        save();
        return { kind: 'failed', message };
      }
    },
  );
}

export async function get(req: HelperRequest): Promise<number> {
  let cfg: HelperConfig;
  try {
    cfg = await load(req);
  } catch (err) {
    return fail(configFailure(err));
  }
  let outcome: Outcome;
  try {
    outcome = await obtain(req, cfg);
  } catch (err) {
    outcome = {
      kind: 'failed',
      message: getFailure(err, {
        key: req.key,
        file: req.configFile,
        vaultUrl: cfg.host.connection.url,
      }),
    };
  }
  switch (outcome.kind) {
    case 'hit':
      answer({
        ServerURL: req.serverUrl,
        Username: outcome.entry.username,
        Secret: outcome.entry.secret,
      });
      return 0;
    case 'not-found':
      return notFound(`no registry "${req.key}" in ${req.configFile}.`);
    case 'failed':
      return cfg.settings.onError === 'anonymous'
        ? notFound(
            `going on without credentials for ${req.key} (${SECTION}.on_error: anonymous): ${outcome.message}`,
          )
        : fail(outcome.message);
  }
}

export async function erase(req: HelperRequest): Promise<number> {
  let cfg: HelperConfig;
  try {
    cfg = await load(req);
  } catch (err) {
    return fail(configFailure(err));
  }
  try {
    await withLock(
      req.files.lock,
      { ...lockTimes(cfg, Date.now()), poll: () => undefined },
      async () => {
        const doc = readCache(req.files);
        if (!doc || !held(doc, req.key)) return;
        const save = () => writeCache(req.files, doc);
        try {
          await revokeRegistry({ cfg, env: req.env, doc, save }, req.key);
        } finally {
          save();
        }
      },
    );
    return 0;
  } catch (err) {
    return fail(configFailure(err));
  }
}
