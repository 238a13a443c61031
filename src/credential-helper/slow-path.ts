// Everything that needs the configuration parsed and Vault: a `get` the cache cannot answer, and
// `erase`. Loaded with import() only then, and only by the process holding the cache's lock, so a
// cached `get` (or one waiting for another's answer) never loads the configuration parser or undici.
import { debugLog } from '../core/debug-log.js';
import { registryKey } from '../core/registry-name.js';
import { type CacheDoc, emptyCache, held, lookup, readCache, writeCache } from './cache.js';
import { configFailure, getFailure } from './messages.js';
import { mint } from './mint.js';
import { type MintContext, sourceOf } from './mint-context.js';
import { fail, NAME } from './protocol.js';
import type { HelperRequest } from './request.js';
import { type Outcome, respond } from './respond.js';
import { revokeRegistry } from './revoke.js';
import { type HelperConfig, loadHelperConfig } from './settings.js';

/** A waiter shares the failure of the holder it waited for; older ones are dropped. */
const FAILURE_KEPT_MS = 60_000;

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

/** Records a failure for the processes waiting on this one, and answers it. */
function failed(req: HelperRequest, message: string, anonymous: boolean): number {
  const doc = readCache(req.files) ?? emptyCache(req.configFile, '');
  doc.failures[req.key] = { at: Date.now(), message, anonymous };
  writeCache(req.files, doc);
  return respond(req, { kind: 'failed', message, anonymous });
}

/** `get` on a miss; the caller holds the lock. */
export async function get(req: HelperRequest): Promise<number> {
  let cfg: HelperConfig;
  try {
    cfg = await loadHelperConfig(req.configFile, req.env);
  } catch (err) {
    return failed(req, configFailure(err), false);
  }
  const entry = cfg.host.entries.find((e) => registryKey(e.registry) === req.key);
  const anonymous = cfg.settings.onError === 'anonymous';
  const where = { key: req.key, file: req.configFile, connection: cfg.host.connection };
  let outcome: Outcome;
  try {
    const doc = reconcile(readCache(req.files), req, cfg, Date.now());
    const save = () => writeCache(req.files, doc);
    const l = lookup(doc, req.configFile, req.stamp, req.key, Date.now());
    if (l.kind === 'hit' || !entry) {
      save();
      return respond(req, l.kind === 'hit' ? l : { kind: 'not-found' });
    }
    const ctx: MintContext = { cfg, env: req.env, doc, save };
    const minted = await mint(ctx, entry);
    debugLog(req.env, NAME, 'lease', {
      registry: req.key,
      answer: 'minted',
      lease: minted.leaseId,
      ttl_s: minted.endsAt && Math.round((minted.endsAt - Date.now()) / 1000),
      cache_s: Math.round((minted.useUntil - Date.now()) / 1000),
    });
    retire(doc, req.key, Date.now());
    doc.entries[req.key] = minted;
    delete doc.failures[req.key];
    save();
    outcome = { kind: 'hit', entry: minted };
  } catch (err) {
    return failed(req, getFailure(err, where), anonymous);
  }
  return respond(req, outcome);
}

/** `erase`; the caller holds the lock. */
export async function erase(req: HelperRequest): Promise<number> {
  try {
    const cfg = await loadHelperConfig(req.configFile, req.env);
    const doc = readCache(req.files);
    if (!doc || !held(doc, req.key)) return 0;
    try {
      await revokeRegistry(
        { cfg, env: req.env, doc, save: () => writeCache(req.files, doc) },
        req.key,
      );
    } finally {
      writeCache(req.files, doc);
    }
    debugLog(req.env, NAME, 'erase', { registry: req.key, answer: 'revoked' });
    return 0;
  } catch (err) {
    return fail(configFailure(err));
  }
}
