// One registry's credential from its Vault source: every entry point (CI login, credential
// helper, kubelet provider, Swarm driver) issues through here.
import type { Config, Entry, Source } from './config.js';
import { type Credential, dockerAuthString, secretCandidates, toCredential } from './credential.js';
import { explainIssue } from './explain.js';
import type { Masker } from './ports.js';
import type { Call, VaultClient } from './vault.js';

/** What explaining a refusal needs of the configuration. */
export type IssueContext = Pick<Config, 'namespace' | 'retries' | 'timeoutMs'>;

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
    const cred = toCredential(answer, now(), entry.fields, source.path);
    masker.mask(cred.secret);
    masker.mask(dockerAuthString(cred));
    return cred;
  } catch (err) {
    throw explainIssue(err, { ...ctx, source });
  }
}
