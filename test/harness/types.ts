// The contract between the test environment and the tests, demo and benchmark that use it.
// `startEnv()` in ./index.ts returns a TestEnv; everything listens on 127.0.0.1, random free ports.

/** A rule the fault injector applies to the next `times` matching requests. */
export interface FaultRule {
  /** Matched against the request path (e.g. `/v1/auth/github/login`): a prefix string or a RegExp. */
  path: string | RegExp;
  method?: string;
  /** How many matching requests the rule applies to (default 1). */
  times?: number;
  /** Answer with this status and Vault-style `{"errors":[...]}` body instead of forwarding. */
  status?: number;
  /** Seconds for a `Retry-After` header (with status 429 or 503). */
  retryAfter?: number;
  /** Wait this long before handling (then forward, or apply `status`/`drop`). */
  delayMs?: number;
  /** Destroy the socket without answering. */
  drop?: boolean;
  /** Forward the request upstream, then destroy the socket instead of returning the answer. */
  dropAfterForward?: boolean;
}

export interface Faults {
  add(rule: FaultRule): void;
  clear(): void;
  /** Rules with requests still to apply to. */
  pending(): number;
}

/** One request seen by a stand-in (the engine proxy or the issuer), for counting and assertions. */
export interface SeenRequest {
  method: string;
  path: string;
  status: number;
  /** Value of X-Vault-Namespace, if any. */
  namespace?: string;
  /** When the request arrived, and when its answer was finished (or the socket closed). */
  at: number;
  doneAt?: number;
}

export interface TokenOptions {
  /** Claims merged over the provider's defaults (set a claim to undefined to drop it). */
  claims?: Record<string, unknown>;
  /** Seconds from now; negative for an already expired token. Default 300. */
  expiresIn?: number;
  /** Sign with a key that is not in the JWKS. */
  wrongKey?: boolean;
}

/** A pod's service account, for a Kubernetes-shaped token. */
export interface ServiceAccountRef {
  namespace: string;
  serviceAccount: string;
  /** The token's audience (tokenAttributes.serviceAccountTokenAudience). */
  audience: string;
  pod?: string;
}

export interface OidcIssuer {
  /** The `iss` of every token and the base of `/.well-known/openid-configuration` and `/jwks`. */
  url: string;
  /** GitHub-shaped token (iss, aud, sub `repo:<owner>/<repo>:ref:<ref>`, repository, ref, ...). */
  githubToken(opts?: TokenOptions): string;
  /** CircleCI-shaped token (`oidc.circleci.com/project-id`, ...); v2 adds vcs-origin/vcs-ref to sub. */
  circleciToken(opts?: TokenOptions & { v2?: boolean }): string;
  /** GitLab `id_tokens`-shaped token (project_path, ref, ...). */
  gitlabToken(opts?: TokenOptions): string;
  /** Buildkite-shaped token (organization_slug, pipeline_slug, ...). */
  buildkiteToken(opts?: TokenOptions): string;
  /** A Kubernetes projected service account token (`iss` is this issuer, as a cluster's would be). */
  kubernetesToken(sa: ServiceAccountRef, opts?: TokenOptions): string;
  /** The GitHub runner's ID-token endpoint: set these as ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN. */
  github: { requestUrl: string; requestToken: string };
  /** Faults for the issuer's own endpoints (the runner ID-token endpoint included). */
  faults: Faults;
  requests: SeenRequest[];
}

/** The fixed names the environment configures in OpenBao. */
export interface Fixtures {
  /** JWT auth mounts. */
  githubMount: string; // "github"
  circleciMount: string; // "circleci"
  gitlabMount: string; // "gitlab"
  buildkiteMount: string; // "buildkite"
  /** The audience every role binds (GitHub tokens default to it too). */
  audience: string;
  github: {
    owner: string;
    repository: string; // "<owner>/<repo>"
    ref: string; // "refs/heads/main"
    /** Role allowed read+write on `dockerhub/token/<account>/*`. */
    role: string;
    /** Role bound to a ref no default token carries (for bound-claim mismatch). */
    roleOtherRef: string;
    /** Role whose policy lacks `create` on the engine path (403). */
    roleNoCreate: string;
    /** Role that may also revoke leases (`sys/leases/revoke` update). */
    roleCanRevoke: string;
  };
  circleci: { orgId: string; projectId: string; role: string; roleCanRevoke: string };
  gitlab: { projectPath: string; role: string };
  buildkite: { organization: string; pipeline: string; role: string };
  /** Docker Hub engine mount and the account configured on it. */
  engineMount: string; // "dockerhub"
  account: string;
  /** A second configured account whose allowed scopes exclude admin. */
  accountNoAdmin: string;
  /** KV v2 mount and a path under it holding {username, password} valid on the registry. */
  kvMount: string; // "secret"
  kvPath: string; // "registry/static"
  kvUsername: string;
  /**
   * Only with `startEnv({ namespaces: true })`: log in in namespace `login` (JWT mount
   * `githubMount`, roles `github.role` and `github.roleCanRevoke`) and lease in its child
   * namespace `engine` (engine mount `engineMount`, e.g. X-Vault-Namespace `ci/team`).
   */
  namespaces?: { login: string; engine: string };
}

export interface EngineStandIn {
  /** Lease ids still alive (not revoked, not expired). */
  liveLeases(): string[];
  /** Lease TTL in seconds for new leases (default 300, as the plugin). */
  setLeaseTtl(seconds: number): void;
  /** Vault client tokens returned by logins that passed through, oldest first. */
  vaultTokens(): string[];
  faults: Faults;
  requests: SeenRequest[];
}

export interface HubStandIn {
  /** Base URL of the Docker Hub API stand-in (what the engine calls `https://hub.docker.com`). */
  url: string;
  /** Access tokens alive at the Docker Hub stand-in (each one an htpasswd entry). */
  liveTokens(): { uuid: string; username: string; label: string; scopes: string[] }[];
}

export interface Registry {
  /** host:port, plain HTTP, htpasswd auth (docker treats 127.0.0.1 as an insecure registry). */
  host: string;
  /** True when `docker login` with these credentials succeeds (run in a throwaway DOCKER_CONFIG). */
  canLogin(username: string, secret: string): Promise<boolean>;
}

export interface TestEnv {
  /** What clients use as VAULT_ADDR: the engine stand-in in front of OpenBao. */
  vaultAddr: string;
  /** OpenBao itself, bypassing the stand-in. */
  baoAddr: string;
  rootToken: string;
  issuer: OidcIssuer;
  engine: EngineStandIn;
  hub: HubStandIn;
  registry: Registry;
  fixtures: Fixtures;
  /**
   * Every secret the environment issued or saw so far: OIDC tokens minted, Vault client tokens
   * returned by logins through the stand-in, Docker Hub access tokens, their base64 `user:token`.
   * Tests scan output for each of them.
   */
  secrets(): string[];
  /** Whether a Vault token is still valid (lookup-self against OpenBao). */
  vaultTokenAlive(token: string): Promise<boolean>;
  /** Only with `startEnv({ tls })`: the CA (for VAULT_CACERT) and a client certificate and key. */
  tls?: { caPem: string; caFile: string; clientCertFile: string; clientKeyFile: string };
  /** A scratch directory removed on stop. */
  tmpDir: string;
  stop(): Promise<void>;
}

/** What `startEnv(options)` accepts; every field is optional. */
export interface StartOptions {
  /** Lease TTL in seconds for the engine stand-in's new leases (default 300). */
  leaseTtl?: number;
  /** Also create namespaces `ci` and `ci/team` (see Fixtures.namespaces). */
  namespaces?: boolean;
  /** Serve vaultAddr over HTTPS (certificate for 127.0.0.1 from a CA in `env.tls`). */
  tls?: { /** Require a client certificate signed by that CA (mTLS). */ clientCerts?: boolean };
}
