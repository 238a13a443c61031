// `credential_helper.job`: the helper serving one CI job (written by the Action's, the CLI's
// `credential-helper` mode). The token in auth.token_file is then the job's own: the helper renews
// it while the job uses it and, when it could not be renewed, logs in again with the job's identity.
import type { OwnSections } from '../core/host-config.js';

export interface Relogin {
  /** Where the fresh identity token comes from. */
  identity:
    | { kind: 'github' }
    | { kind: 'jwt_env'; name: string }
    | { kind: 'jwt_file'; path: string };
  mount: string;
  role: string;
  audience?: string;
}

export interface JobSettings {
  /** Renew the token with auth/token/renew-self (it is this job's, not a Vault Agent's). */
  renew: boolean;
  relogin?: Relogin;
}

type JobSection = NonNullable<OwnSections['credential_helper']['job']>;

/** The section as its schema gave it (host-config-schema.ts checked each identity's key). */
export function jobSettings(job: JobSection | undefined): JobSettings | undefined {
  if (!job) return undefined;
  const r = job.relogin;
  if (!r) return { renew: job.renew };
  const identity: Relogin['identity'] =
    r.identity === 'jwt_env'
      ? { kind: 'jwt_env', name: r.jwt_env ?? '' }
      : r.identity === 'jwt_file'
        ? { kind: 'jwt_file', path: r.jwt_file ?? '' }
        : { kind: 'github' };
  return {
    renew: job.renew,
    relogin: { identity, mount: r.mount, role: r.role, audience: r.audience },
  };
}
