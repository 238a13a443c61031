// One registry's credential from its Vault source: every entry point (CI login, credential
// helper, kubelet provider, Swarm driver) issues through here.
import type { Config, Entry } from './config.js';
import { type Credential, dockerAuthString, secretCandidates, toCredential } from './credential.js';
import { explainIssue } from './explain.js';
import type { Masker } from './ports.js';
import type { VaultClient } from './vault.js';

/** What explaining a refusal needs of the configuration. */
export type IssueContext = Pick<Config, 'namespace' | 'retries' | 'timeoutMs'>;

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
    const answer = await vault.call({
      method: source.method === 'write' ? 'POST' : 'GET',
      path: source.path,
      token,
      namespace: ctx.namespace,
      body: source.method === 'write' ? source.body : undefined,
    });
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
