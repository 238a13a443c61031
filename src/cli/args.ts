// Command line: `login` / `logout` with node:util parseArgs; every flag mirrors an Action input.
import { parseArgs } from 'node:util';
import { INPUT_NAMES } from '../core/config.js';
import { UsageError } from './usage.js';

/** Flags passed to the core as the Action input of the same name. */
export const INPUT_FLAGS = INPUT_NAMES;

const COMMON = {
  session: { type: 'string' },
  'state-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const LOGIN = {
  ...COMMON,
  ...Object.fromEntries(INPUT_FLAGS.map((f) => [f, { type: 'string' as const }])),
  identity: { type: 'string' },
  'jwt-file': { type: 'string' },
  'jwt-env': { type: 'string' },
  'gitlab-token-var': { type: 'string', default: 'VAULT_ID_TOKEN' },
  'ca-cert': { type: 'string' },
  'client-cert': { type: 'string' },
  'client-key': { type: 'string' },
  'tls-skip-verify': { type: 'boolean' },
  json: { type: 'boolean' },
  'credential-helper': { type: 'boolean' },
  'export-file': { type: 'string' },
} as const;

export type Flags = Record<string, string | boolean | undefined>;
/** `usage`: no command at all, answered with the help text and exit code 2. */
export type Command = { name: 'login' | 'logout' | 'help' | 'version' | 'usage'; flags: Flags };

export function parseCommand(argv: string[]): Command {
  const [name, ...rest] = argv;
  if (name === undefined) return { name: 'usage', flags: {} };
  if (name === '--help' || name === '-h' || name === 'help') return { name: 'help', flags: {} };
  if (name === '--version' || name === 'version') return { name: 'version', flags: {} };
  if (name !== 'login' && name !== 'logout')
    throw new UsageError(`Unknown command "${name}"; expected login or logout.`);
  try {
    const { values } = parseArgs({
      args: rest,
      options: name === 'login' ? LOGIN : COMMON,
      strict: true,
      allowPositionals: false,
    });
    return { name, flags: values as Flags };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export const HELP = {
  help: `Usage: vault-docker-login <command> [flags]

Log in to Docker Hub or any registry with a short-lived credential from HashiCorp Vault or
OpenBao, using this CI job's OIDC identity; log out and revoke it all at the end.

Commands:
  login    Get a Vault token, a credential per registry, and run docker login.
  logout   docker logout, revoke the leases and the Vault token of a login.

Run "vault-docker-login <command> --help" for its flags, "vault-docker-login --version" for
the version. Exit codes: 0 success, 1 failure (identity, Vault, docker), 2 usage error (no
command, bad flag or value).
`,
  login: `Usage: vault-docker-login login --role ROLE (--account NAME | --secret-path PATH | --registries LIST) [flags]

Vault (the VAULT_* variables are honoured: VAULT_ADDR, VAULT_NAMESPACE, VAULT_CACERT,
VAULT_CLIENT_CERT, VAULT_CLIENT_KEY, VAULT_SKIP_VERIFY, VAULT_TOKEN; proxies via HTTPS_PROXY):
  --url URL                 Vault address (default $VAULT_ADDR)
  --namespace NS            namespace of the secrets engine (default $VAULT_NAMESPACE)
  --auth-namespace NS       namespace of the JWT auth method (default --namespace)
  --auth-mount PATH         JWT auth mount (default jwt)
  --role ROLE               JWT role to log in with (not needed with VAULT_TOKEN)
  --audience AUD            audience to request for the identity token (github, circleci and
                            buildkite mint one; GitLab's is set in the job's id_tokens)
  --ca-cert FILE            CA bundle for Vault's TLS (default $VAULT_CACERT)
  --client-cert FILE        client certificate for mTLS (default $VAULT_CLIENT_CERT)
  --client-key FILE         client key for mTLS (default $VAULT_CLIENT_KEY)
  --tls-skip-verify         do not verify Vault's certificate (insecure)
  --timeout SECONDS         for the whole exchange, retries included (default 60)
  --retries N               retries of 412, 429, 5xx and connection errors (default 2); a
                            leader election (a standby's 307 or 500) waits up to --timeout

Identity (auto-detected in this order unless --identity is given):
  --identity NAME           github | circleci | gitlab | buildkite | jwt-file | jwt-env | vault-token
  --jwt-file FILE           read the identity token (a JWT) from FILE
  --jwt-env NAME            read the identity token from the variable NAME
  --gitlab-token-var NAME   GitLab id_tokens variable (default VAULT_ID_TOKEN)
  GitHub Actions: ACTIONS_ID_TOKEN_REQUEST_*; CircleCI: "circleci run oidc get" with --audience,
  else $CIRCLE_OIDC_TOKEN_V2 / $CIRCLE_OIDC_TOKEN; Buildkite: "buildkite-agent oidc request-token";
  last, $VAULT_TOKEN (no JWT login; that token is never revoked, only the leases).

Credential:
  --account NAME            Docker Hub engine account (path <engine-mount>/token/<account>/<scope>)
  --engine-mount PATH       Docker Hub engine mount (default dockerhub)
  --scope SCOPE             read | write | admin | public_read (default read)
  --label TEXT              Docker Hub token label (default names the CI job)
  --secret-path PATH        any Vault path instead: KV v2 (secret/data/...), Quay, Harbor, ...
  --secret-method M         read | write (default write under <engine-mount>/token/, else read)
  --secret-body JSON        JSON object sent with a write
  --username-field NAME     field holding the user name (default username)
  --password-field NAME     field holding the secret (default token|password|secret|access_token)
  --registry HOST           registry to log in to (default Docker Hub)
  --registries LIST         YAML or JSON list of {registry, secret_path, method, body,
                            username_field, password_field}: several registries, one Vault login

Session:
  --session NAME            name of this login, for logout (default: job-<id> from the CI job's
                            CI_JOB_ID, BUILDKITE_JOB_ID, CIRCLE_WORKFLOW_JOB_ID or BUILD_TAG,
                            else "default"); another job's logout is refused
  --state-file FILE         state file instead of $XDG_RUNTIME_DIR (or $TMPDIR)/vault-docker-login-<uid>/<session>.json
  --logout true|false       whether logout runs docker logout (default true)
  --revoke true|false       whether logout revokes (default true)
  --json                    print the registries logged in to as JSON on stdout

Credentials for the whole job:
  --credential-helper       no docker login: a job-local DOCKER_CONFIG sends the registries to
                            docker-credential-vault, which leases on use and again whenever a
                            lease ends, until logout revokes everything. Prints the lines to
                            eval: eval "$(vault-docker-login login --credential-helper ...)"
  --export-file FILE        with --credential-helper: append DOCKER_CONFIG=... and PATH=... to
                            FILE instead (a dotenv file, $GITHUB_ENV, $BASH_ENV)

Nothing secret is printed or passed in argv. Exit codes: 0 logged in, 1 failure (everything
obtained is revoked again), 2 usage error.
`,
  logout: `Usage: vault-docker-login logout [--session NAME | --state-file FILE]

docker logout of every registry of that login (with --credential-helper: every lease the
helper made, and the job directory), then revoke its leases and its Vault token. A
token from VAULT_TOKEN is the user's: it is not revoked, and the leases are revoked with the
VAULT_TOKEN of logout's own environment. The state file is deleted once Vault has confirmed
every revocation (or the leases have ended on their own); until then it stays, and running
logout again retries. Run it in an always-run step (GitLab after_script, a Jenkins post
{ always }).

  --session NAME            the login's session name (default: job-<id> of this CI job, else
                            "default")
  --state-file FILE         the login's state file, when it was given one

Exit codes: 0 cleaned up (or nothing to clean up), 1 something could not be revoked (the state
stays for a retry; the message says when the lease ends on its own), 2 usage error.
`,
};
