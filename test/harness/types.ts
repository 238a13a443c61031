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
/** The CI systems whose public OIDC issuer the environment can play (see PublicIssuers). */
export type PublicIssuerKind = 'github' | 'circleci' | 'gitlab' | 'buildkite';

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
  /**
   * Claims merged into every later token of that kind, the runner ID-token endpoint's included
   * (e.g. a public `iss` and the repository a documented role binds).
   */
  setClaims(kind: PublicIssuerKind, claims: Record<string, unknown>): void;
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
  /** Vault client tokens returned by the logins that passed through, oldest first. */
  vaultTokens(): string[];
  faults: Faults;
  requests: SeenRequest[];
}

export interface HubStandIn {
  /** Base URL of the Docker Hub API stand-in (what the engine calls `https://hub.docker.com`). */
  url: string;
  /** A Docker Hub account exists with this password (what the engine's config must name). */
  addAccount(username: string, password: string): void;
  /** Access tokens alive at the Docker Hub stand-in (each one a live secret at the registry). */
  liveTokens(): { uuid: string; username: string; label: string; scopes: string[] }[];
  /**
   * The status a token delete answers once the token is gone: 202 by default, the only one the
   * plugin counts as deleted; 204 is what Docker Hub documents, and the plugin then fails the
   * revocation while the token is already dead.
   */
  setDeleteStatus(status: number): void;
  /** Every access token it issued, in order (alive or not), to check the registry refuses them. */
  issued(): { username: string; token: string }[];
}

/** One request to the registry's token service (no secret is kept). */
export interface TokenRequest {
  at: number;
  /** The Basic-auth user, or '' for an anonymous request. */
  username: string;
  /** The `scope` parameters asked for, e.g. `repository:acme/private:pull`. */
  scopes: string[];
  /** 200, or 401 for a wrong username or secret. */
  status: number;
  /** What the token granted, `repository:<name>:<actions>` (actions empty when refused). */
  granted: string[];
  /** Who asked: `docker/<version> ...` from dockerd (`UpstreamClient(Docker-Client/...)` when the
   * CLI asked the daemon), the CLI's own when it logs in without a daemon, skopeo's, ... */
  userAgent: string;
}

export interface Registry {
  /**
   * host:port, plain HTTP (docker treats 127.0.0.1 as an insecure registry), with token auth as
   * Docker Hub's registry: a token service checks Basic credentials and issues bearer JWTs.
   */
  host: string;
  /** True when `docker login` with these credentials succeeds (run in a throwaway DOCKER_CONFIG). */
  canLogin(username: string, secret: string): Promise<boolean>;
  /**
   * The harness's own registry user, allowed every action (it pushes the private image). Code
   * under test never gets it; it is in `env.secrets()`.
   */
  admin: { username: string; secret: string };
  /** Every token-service request, in order: who authenticated, for what, and what was granted. */
  authRequests: TokenRequest[];
  /**
   * Makes `secret` one more valid secret of `username` (any number per user), for `actions` (on
   * `repositories` only, when given).
   */
  addSecret(username: string, secret: string, actions: string[], repositories?: string[]): void;
}

/** What a command printed and how it exited. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** How a docker CLI reaches the daemon: its unix socket, or its TLS TCP listener. */
export type DockerVia = 'unix' | 'tcp';

/** What `startDaemon(dir, options)` accepts. */
export interface DaemonOptions {
  /** Also listen on tcp://127.0.0.1:<free port> with TLS, as CircleCI's remote Docker. */
  tcp?: boolean;
  /**
   * `--debug`: the log then also holds what the Swarm manager logs at debug level, such as a
   * secrets driver's `Err` (swarmkit shows it nowhere else).
   */
  debug?: boolean;
}

/**
 * A real dockerd (Debian's docker.io, with its own containerd), as root, on its own socket, data
 * root and exec root under `dir`, in a mount namespace of its own; vfs storage, no iptables, no
 * bridge. `startDaemon(dir, options)` in ./daemon.ts (the caller removes `dir` after stop()), or
 * `startEnv({ daemon })`.
 */
export interface DockerDaemon {
  /** `unix://<dir>/docker.sock`. */
  host: string;
  /**
   * Only with `{ tcp: true }`: `tcp://127.0.0.1:<port>`, TLS with client certificates, and the
   * directory holding `ca.pem`, `cert.pem`, `key.pem` (DOCKER_CERT_PATH).
   */
  tcp?: { host: string; certPath: string };
  /**
   * DOCKER_HOST (and DOCKER_TLS_VERIFY, DOCKER_CERT_PATH over TCP) for a docker CLI to reach this
   * daemon, and DOCKER_CONFIG when given.
   */
  env(dockerConfig?: string, via?: DockerVia): Record<string, string>;
  /** Runs the docker CLI on PATH against this daemon with that config directory. */
  docker(
    args: string[],
    opts: { dockerConfig: string; input?: string; via?: DockerVia },
  ): Promise<CommandResult>;
  /**
   * `docker pull <image>` with that config directory. A pull by tag always asks the registry, so
   * it authenticates even when the image is already on the daemon. A failure does not throw:
   * assert on the result.
   */
  pull(image: string, dockerConfig: string, via?: DockerVia): Promise<CommandResult>;
  /**
   * Makes a busybox image without network (`docker import` of a rootfs), pushes it as
   * `<registry>/<repository>:1` with these credentials, removes it locally; returns the reference.
   * Its default command is `sh`; `sleep`, `cat`, `echo`, `env`, `ls`, `true` are there too.
   */
  pushPrivateImage(
    registry: Registry,
    creds: { username: string; secret: string },
    repository?: string,
    /** The image's default command (default `["sh"]`). */
    cmd?: string[],
  ): Promise<string>;
  /** `docker swarm init` on 127.0.0.1 with free ports; stop() leaves the swarm first. */
  initSwarm(): Promise<void>;
  /** dockerd, its containerd and shims still running: [pid, command line]. */
  processes(): [number, string][];
  /** Everything dockerd and its containerd logged so far. */
  logs(): string;
  /**
   * Leaves the swarm if any, stops dockerd by pid (it stops its containers and containerd), then
   * kills whatever of its containerd and shims is left.
   */
  stop(): Promise<void>;
}

/**
 * Only with `startEnv({ publicIssuers: true })`: OpenBao reaches the CI systems' public issuer
 * URLs through this proxy, which serves them with the test issuer's key. Mint tokens with
 * `iss: issuerUrl(kind)` (env.issuer.setClaims) and they verify.
 */
export interface PublicIssuers {
  /** What OpenBao has as HTTPS_PROXY. */
  proxyUrl: string;
  /** The proxy's CA, OpenBao's SSL_CERT_FILE. */
  caFile: string;
  /** e.g. https://token.actions.githubusercontent.com, https://oidc.circleci.com/org/<orgId>. */
  issuerUrl(kind: PublicIssuerKind, orgId?: string): string;
  /** What the proxy was asked: `CONNECT host:443`, `GET https://host/path`. */
  requests(): string[];
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
   * returned by logins through the stand-in, the root token, the KV password, Docker Hub access
   * tokens, the registry admin's secret (each also as base64 `user:secret`), and every registry
   * bearer token. Tests scan output for each of them.
   */
  secrets(): string[];
  /** Whether a Vault token is still valid (lookup-self against OpenBao). */
  vaultTokenAlive(token: string): Promise<boolean>;
  /** Only with `startEnv({ tls })`: the CA (for VAULT_CACERT) and a client certificate and key. */
  tls?: { caPem: string; caFile: string; clientCertFile: string; clientKeyFile: string };
  /** Only with `startEnv({ publicIssuers: true })`. */
  publicIssuers?: PublicIssuers;
  /** A scratch directory removed on stop. */
  tmpDir: string;
  stop(): Promise<void>;
}

/** `startEnv({ daemon })`: the environment, a Docker daemon, and a private image to pull. */
export interface DaemonEnv extends TestEnv {
  daemon: DockerDaemon;
  /**
   * `<registry>/acme/private:1`, pushed by `registry.admin` and not on the daemon at start; a
   * pull works only with a credential the registry accepts. Anonymous: `pull access denied`.
   */
  privateImage: string;
}

/** What `startEnv(options)` accepts; every field is optional. */
export interface StartOptions {
  /**
   * Also start a Docker daemon (stopped with the environment; its log is scanned for every
   * secret at stop) and push `privateImage` (see DaemonEnv).
   */
  daemon?: true | DaemonOptions;
  /** Lease TTL in seconds for the engine stand-in's new leases (default 300). */
  leaseTtl?: number;
  /** Also create namespaces `ci` and `ci/team` (see Fixtures.namespaces). */
  namespaces?: boolean;
  /**
   * Leave OpenBao as the dev server starts (no auth mounts, roles, policies; KV v2 at secret/)
   * and the engine without accounts: for Vault setup snippets to configure.
   */
  emptyVault?: boolean;
  /** Let OpenBao reach the CI systems' public issuer URLs (see PublicIssuers). */
  publicIssuers?: boolean;
  /** Serve vaultAddr over HTTPS (certificate for 127.0.0.1 from a CA in `env.tls`). */
  tls?: { /** Require a client certificate signed by that CA (mTLS). */ clientCerts?: boolean };
}
