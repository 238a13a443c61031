// Fault injection shared by the stand-ins: rules match the next N requests to a path.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultRule, Faults, SeenRequest } from './types.js';

export class FaultList implements Faults {
  private rules: { rule: FaultRule; left: number }[] = [];

  add(rule: FaultRule): void {
    this.rules.push({ rule, left: rule.times ?? 1 });
  }

  clear(): void {
    this.rules = [];
  }

  pending(): number {
    return this.rules.filter((r) => r.left > 0).length;
  }

  /** Consumes one use of the first rule matching the request, if any. */
  take(method: string, path: string): FaultRule | undefined {
    const hit = this.rules.find(
      (r) =>
        r.left > 0 &&
        (!r.rule.method || r.rule.method.toUpperCase() === method.toUpperCase()) &&
        (typeof r.rule.path === 'string' ? path.startsWith(r.rule.path) : r.rule.path.test(path)),
    );
    if (!hit) return undefined;
    hit.left -= 1;
    this.rules = this.rules.filter((r) => r.left > 0);
    return hit.rule;
  }
}

const reasons: Record<number, string> = {
  412: 'required index state not present',
  429: 'request path "%s": rate limit quota exceeded',
  500: 'internal error',
  502: 'bad gateway',
  503: 'Vault is sealed',
};

/**
 * Applies the delay of a rule, then answers or drops when the rule says so.
 * Returns true when the request was fully handled here.
 */
export async function applyFault(
  rule: FaultRule | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  if (!rule) return false;
  if (rule.delayMs) await new Promise((r) => setTimeout(r, rule.delayMs));
  if (rule.drop) {
    req.socket.destroy();
    return true;
  }
  if (rule.status) {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const text = (reasons[rule.status] ?? `injected fault ${rule.status}`).replace('%s', path);
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (rule.retryAfter !== undefined) headers['Retry-After'] = String(rule.retryAfter);
    res.writeHead(rule.status, headers).end(JSON.stringify({ errors: [text] }));
    return true;
  }
  return false;
}

/** Appends a SeenRequest once the response is finished (or the socket closed). */
export function record(log: SeenRequest[], req: IncomingMessage, res: ServerResponse): void {
  const ns = req.headers['x-vault-namespace'];
  const entry: SeenRequest = {
    method: req.method ?? 'GET',
    path: (req.url ?? '').split('?')[0] ?? '',
    status: 0,
    at: Date.now(),
  };
  if (typeof ns === 'string' && ns) entry.namespace = ns;
  log.push(entry);
  res.once('close', () => {
    entry.status = res.headersSent ? res.statusCode : 0;
    entry.doneAt = Date.now();
  });
}
