// One `/SecretProvider.GetSecret`: labels -> a Vault call with the driver's token -> the task's
// value, or an `Err` that says what to fix. The log names the task and the path, never the value.
// A new task of a slot gets its lease and the replaced task's lease is revoked (slots.ts).

import type { AuthMethod } from '../auth/method.js';
import { describe, VaultHttpError } from '../core/errors.js';
import { sourceCall } from '../core/issue.js';
import { defaultLabel } from '../core/registry-entries.js';
import type { Transport } from '../core/transport.js';
import { VaultClient } from '../core/vault.js';
import type { DriverConfig } from './config.js';
import type { DriverToken } from './driver-token.js';
import { explainFailure, invalidToken } from './explain.js';
import { planFromLabels, type SecretPlan } from './labels.js';
import type { DriverLog } from './log.js';
import { type SecretAnswer, type SecretRequest, valueAnswer } from './protocol.js';
import { slotLeases } from './slots.js';
import { type Delivered, deliver } from './value.js';

export interface DriverDeps {
  cfg: DriverConfig;
  method: AuthMethod;
  token: DriverToken;
  transport: Transport;
  log: DriverLog;
  now?: () => number;
}

export function secretHandler(d: DriverDeps): (req: SecretRequest) => Promise<SecretAnswer> {
  const now = d.now ?? Date.now;
  const conn = d.cfg.connection;
  const slots = slotLeases();

  /** The lease of the task this one replaced is revoked after the answer; failures are logged. */
  async function revokeReplaced(vault: VaultClient, token: string, leaseId: string, task?: string) {
    const r = await vault.revokeLease(leaseId, token, conn.namespace).catch((err: unknown) => {
      d.log.error('replaced lease not revoked', { lease: leaseId, error: describe(err) });
      return undefined;
    });
    if (r) d.log.info('replaced lease', { task, lease: leaseId, revoke: r });
  }

  /** The call the plan asks for; a delivery that fails gives back the lease it made, if any. */
  async function fetchValue(
    plan: SecretPlan,
    vault: VaultClient,
    token: string,
  ): Promise<Delivered> {
    const { source, delivery } = plan;
    const answer = await vault.call({
      ...sourceCall(source, token, conn.namespace),
      wrapTtl: delivery.kind === 'wrapped' ? delivery.ttl : undefined,
    });
    try {
      return deliver(answer, delivery, source.path);
    } catch (err) {
      const leaseId = (answer as { lease_id?: string } | undefined)?.lease_id;
      if (leaseId) {
        const r = await vault.revokeLease(leaseId, token, conn.namespace).catch(() => 'failed');
        d.log.info('undelivered lease', { lease: leaseId, revoke: r });
      }
      throw err;
    }
  }

  return async (req) => {
    const started = now();
    const who = {
      secret: req.SecretName,
      service: req.ServiceName,
      task: req.TaskName ?? req.TaskID,
    };
    let plan: SecretPlan | undefined;
    try {
      plan = planFromLabels(req.SecretLabels, {
        engineMount: d.cfg.engineMount,
        label: d.cfg.label ?? defaultLabel(['swarm task', req.TaskName ?? req.ServiceName ?? '']),
      });
      const vault = new VaultClient({
        url: conn.url,
        transport: d.transport,
        retries: conn.retries,
        deadline: started + conn.timeoutMs,
      });
      const token = await d.token.get(vault, started);
      let got: Delivered;
      try {
        got = await fetchValue(plan, vault, token);
      } catch (err) {
        if (err instanceof VaultHttpError && err.status === 403) {
          const alive = await vault
            .call({ method: 'GET', path: 'auth/token/lookup-self', token, retries: 0 })
            .then(
              () => true,
              (e) => !(e instanceof VaultHttpError && e.status === 403),
            );
          if (!alive) {
            d.token.forget(token);
            throw invalidToken(d.method.describe);
          }
        }
        throw err;
      }
      const replaced = got.leaseId ? slots.replace(req, got.leaseId) : undefined;
      if (replaced) void revokeReplaced(vault, token, replaced, who.task);
      d.log.info('delivered', {
        ...who,
        path: plan.source.path,
        method: plan.source.method,
        as: plan.delivery.kind,
        lease: got.leaseId,
        lease_ttl: got.leaseSeconds === undefined ? undefined : `${got.leaseSeconds}s`,
        wrap_accessor: got.wrap?.accessor,
        wrap_ttl: got.wrap ? `${got.wrap.ttl}s` : undefined,
        do_not_reuse: String(got.doNotReuse),
        ms: now() - started,
      });
      return valueAnswer(got.value, got.doNotReuse);
    } catch (err) {
      const message = explainFailure(err, plan?.source, conn);
      d.log.error('refused', {
        ...who,
        path: plan?.source.path,
        error: message,
        ms: now() - started,
      });
      return { Err: `secret ${JSON.stringify(req.SecretName ?? '')}: ${message}` };
    }
  };
}
