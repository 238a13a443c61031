// One registry's credential from its Vault source: every entry point (CI login, credential
// helper, kubelet provider, Swarm driver) issues through here.
import type { Config } from './config.js';
import { type Credential, dockerAuthString, secretCandidates, toCredential } from './credential.js';
import { VaultHttpError } from './errors.js';
import { explainIssue, grantedPaths } from './explain.js';
import type { Masker } from './ports.js';
import type { Entry, Source } from './registry-entries.js';
import { naming } from './setting-names.js';
import type { Call, VaultClient } from './vault.js';

/** What explaining a refusal needs of the configuration. */
export type IssueContext = Pick<
  Config,
  'namespace' | 'authNamespace' | 'retries' | 'timeoutMs' | 'names'
>;

/**
 * After a 403: what the token's policies do grant, so the message can tell a misspelt account or
 * engine mount from a missing policy. Only when the token and the secret share a namespace (the
 * policy paths are then the request paths); any failure just leaves the detail out.
 */
async function grants(
  vault: VaultClient,
  token: string,
  ctx: IssueContext,
  need: string,
): Promise<string[] | undefined> {
  if ((ctx.namespace ?? '') !== (ctx.authNamespace ?? '')) return undefined;
  try {
    const acl = await vault.call({
      method: 'GET',
      path: 'sys/internal/ui/resultant-acl',
      token,
      namespace: ctx.namespace,
    });
    return grantedPaths(acl, need);
  } catch {
    return undefined;
  }
}

/** The request a source stands for: a read is a GET, a write a POST with its body. */
export function sourceCall(source: Source, token: string, namespace?: string): Call {
  const write = source.method === 'write';
  return {
    method: write ? 'POST' : 'GET',
    path: source.path,
    token,
    namespace,
    body: write ? source.body : undefined,
  };
}

export async function issueCredential(
  vault: VaultClient,
  token: string,
  entry: Entry,
  ctx: IssueContext,
  masker: Masker,
  now: () => number,
): Promise<Credential> {
  const { source } = entry;
  try {
    const answer = await vault.call(sourceCall(source, token, ctx.namespace));
    // Mask whatever secret-looking values arrived before mapping can fail and print anything.
    for (const v of secretCandidates(answer, entry.fields)) masker.mask(v);
    const name = naming(ctx.names, entry.at);
    const cred = toCredential(answer, now(), entry.fields, source.path, name);
    masker.mask(cred.secret);
    masker.mask(dockerAuthString(cred));
    return cred;
  } catch (err) {
    const denied = err instanceof VaultHttpError && err.status === 403;
    const need = source.method === 'read' ? 'read' : 'create';
    const granted = denied ? await grants(vault, token, ctx, need) : undefined;
    throw explainIssue(err, { ...ctx, source, at: entry.at }, granted);
  }
}
