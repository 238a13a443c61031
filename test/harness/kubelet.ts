// A kubelet's image credential providers, emulated from the kubelet's own behaviour
// (pkg/credentialprovider/plugin/plugin.go, keyring.go; KEP-4412 service account tokens):
//  - it normalizes the pod's image as its image manager does (docker.io/library/nginx) and asks
//    only the providers whose matchImages match it;
//  - with tokenAttributes it skips a pod without a service account when requireServiceAccount,
//    and one missing a required annotation; it requests a token for the audience bound to the pod
//    and passes the listed annotations;
//  - it looks in its cache under the image, the registry, then "<global>", each joined with the
//    service account key (namespace, name, uid, annotations, and the token's hash for cacheType
//    Token); on a miss it execs <binDir>/<name> with the config's args, its own environment plus
//    the config's env, the request on stdin, and one minute to answer;
//  - it drops an answer whose apiVersion is not the configured one, whose kind or group is wrong,
//    that has unknown fields (strict decoding), whose cacheKeyType is not Image/Registry/Global, or
//    that echoes the service account token as a password without cacheType Token;
//  - it caches the answer for cacheDuration (Go duration; absent: defaultCacheDuration; 0: not at
//    all) and matches the `auth` keys against the image with its keyring.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GoDurationError, parseGoDuration } from './go-duration.js';
import { type AuthConfig, keyringLookup, urlsMatchStr } from './keyring.js';
import { type ProviderConfig, parseKubeletConfig } from './kubelet-config.js';
import { CHILD_ENV, RUN_ENV } from './procs.js';

export interface ServiceAccount {
  namespace: string;
  name: string;
  uid?: string;
  annotations?: Record<string, string>;
}

export interface Pod {
  namespace: string;
  name: string;
  uid?: string;
  /** Absent: a pod without a service account (a static pod). */
  serviceAccount?: ServiceAccount;
}

/** One run of a provider, as the kubelet saw it (tests scan every byte of it for leaks). */
export interface ProviderExec {
  provider: string;
  image: string;
  argv: string[];
  /** Only what the config's env added (the rest is the kubelet's own environment). */
  configEnv: Record<string, string>;
  request: string;
  stdout: string;
  stderr: string;
  code: number | null;
  /** Epoch ms when the kubelet started it, and how long it ran. */
  startedAt: number;
  ms: number;
  /** Why the kubelet dropped the answer, if it did. */
  rejected?: string;
}

export interface KubeletOptions {
  /** The CredentialProviderConfig: YAML/JSON text or the parsed document. */
  config: unknown;
  /** --image-credential-provider-bin-dir */
  binDir: string;
  /** The kubelet's own environment, which the providers inherit (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** The TokenRequest API: a token for the pod's service account with this audience. */
  requestToken?: (pod: Pod & { serviceAccount: ServiceAccount }, audience: string) => string;
  /** Milliseconds since the epoch; tests move it to expire cache entries. */
  now?: () => number;
}

interface CacheEntry {
  auth: Record<string, AuthConfig>;
  expiresAt: number;
}

const GLOBAL = '<global>';

/** The name the kubelet's image manager pulls: ParseNormalizedNamed(image).Name(). */
export function normalizedName(image: string): string {
  let name = image.split('@')[0] ?? '';
  const slash = name.indexOf('/');
  let domain = 'docker.io';
  let rest = name;
  if (slash >= 0) {
    const first = name.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      domain = first;
      rest = name.slice(slash + 1);
    }
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !rest.includes('/')) rest = `library/${rest}`;
  name = `${domain}/${rest}`;
  return name.replace(/:[^/:]*$/, '');
}

const uidOf = (s: string) => {
  const h = createHash('sha256').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

/** exp - iat of a JWT, in ms (the kubelet refreshes a token at 80% of its life). */
function lifetime(jwt: string): { exp: number; iat: number } {
  const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as {
    exp: number;
    iat: number;
  };
  return { exp: claims.exp * 1000, iat: claims.iat * 1000 };
}

export class Kubelet {
  readonly providers: ProviderConfig[];
  readonly execs: ProviderExec[] = [];
  private readonly caches = new Map<string, Map<string, CacheEntry>>();
  private readonly tokens = new Map<string, { token: string; refreshAt: number }>();
  private readonly now: () => number;

  constructor(private readonly opts: KubeletOptions) {
    this.providers = parseKubeletConfig(opts.config);
    if (!existsSync(opts.binDir))
      throw new Error(`plugin binary directory ${opts.binDir} did not exist`);
    for (const p of this.providers)
      if (!existsSync(join(opts.binDir, p.name)))
        throw new Error(`plugin binary executable ${join(opts.binDir, p.name)} did not exist`);
    this.now = opts.now ?? Date.now;
  }

  /** The credentials the kubelet would try for this pod's image, in order ([]: pull anonymously). */
  async credentialsFor(image: string, pod?: Pod): Promise<AuthConfig[]> {
    const name = normalizedName(image);
    const found: AuthConfig[] = [];
    for (const p of this.providers) {
      if (!p.matchImages.some((m) => urlsMatchStr(m, name))) continue;
      const auth = await this.provide(p, name, pod);
      found.push(...keyringLookup(auth, name));
    }
    return found;
  }

  /** The token manager: one token per pod, service account and audience, renewed at 80% of its life. */
  private token(pod: Pod & { serviceAccount: ServiceAccount }, audience: string): string {
    if (!this.opts.requestToken)
      throw new Error('the emulation needs requestToken for tokenAttributes');
    const key = JSON.stringify([
      pod.namespace,
      pod.serviceAccount.name,
      audience,
      pod.uid ?? pod.name,
    ]);
    const kept = this.tokens.get(key);
    if (kept && this.now() < kept.refreshAt) return kept.token;
    const token = this.opts.requestToken(pod, audience);
    const { exp, iat } = lifetime(token);
    this.tokens.set(key, { token, refreshAt: iat + 0.8 * (exp - iat) });
    return token;
  }

  private async provide(
    p: ProviderConfig,
    image: string,
    pod: Pod | undefined,
  ): Promise<Record<string, AuthConfig>> {
    const cache = this.caches.get(p.name) ?? new Map<string, CacheEntry>();
    this.caches.set(p.name, cache);
    let token = '';
    let annotations: Record<string, string> | undefined;
    let saKey = '';
    const ta = p.tokenAttributes;
    if (ta) {
      const sa = pod?.serviceAccount;
      if (!sa && ta.requireServiceAccount) return {};
      if (pod && sa) {
        annotations = {};
        for (const k of ta.requiredServiceAccountAnnotationKeys) {
          const v = sa.annotations?.[k];
          if (v === undefined) return {}; // required annotation not found: the plugin is not run
          annotations[k] = v;
        }
        for (const k of ta.optionalServiceAccountAnnotationKeys) {
          const v = sa.annotations?.[k];
          if (v !== undefined) annotations[k] = v;
        }
        token = this.token({ ...pod, serviceAccount: sa }, ta.serviceAccountTokenAudience);
        const sorted = Object.keys(annotations)
          .sort()
          .map((k) => [k, annotations?.[k]]);
        const parts: unknown[] = [
          sa.namespace,
          sa.name,
          sa.uid ?? uidOf(`${sa.namespace}/${sa.name}`),
          sorted,
        ];
        if (ta.cacheType === 'Token')
          parts.push('token', `sha256:${createHash('sha256').update(token).digest('hex')}`);
        saKey = JSON.stringify(parts);
      }
    }
    const registry = image.split('/')[0] ?? '';
    for (const base of [image, registry, GLOBAL]) {
      const hit = cache.get(JSON.stringify([base, saKey]));
      if (hit && this.now() <= hit.expiresAt) return hit.auth;
      if (hit) cache.delete(JSON.stringify([base, saKey]));
    }

    const request: Record<string, unknown> = {
      kind: 'CredentialProviderRequest',
      apiVersion: p.apiVersion,
      image,
    };
    if (token) request.serviceAccountToken = token;
    if (annotations && Object.keys(annotations).length)
      request.serviceAccountAnnotations = annotations;
    const exec = await this.exec(p, image, JSON.stringify(request));
    this.execs.push(exec);
    if (exec.code !== 0) return {};
    const answer = this.decode(p, exec, token);
    if (!answer) return {};
    const base =
      answer.cacheKeyType === 'Image'
        ? image
        : answer.cacheKeyType === 'Registry'
          ? registry
          : GLOBAL;
    if (answer.cacheMs === 0) return answer.auth;
    const ttl = answer.cacheMs ?? p.defaultCacheDuration;
    if (ttl === 0) return answer.auth;
    cache.set(JSON.stringify([base, saKey]), { auth: answer.auth, expiresAt: this.now() + ttl });
    return answer.auth;
  }

  /** The kubelet's checks on an answer; sets exec.rejected and returns undefined when it drops it. */
  private decode(
    p: ProviderConfig,
    exec: ProviderExec,
    token: string,
  ): { cacheKeyType: string; cacheMs?: number; auth: Record<string, AuthConfig> } | undefined {
    const reject = (why: string) => {
      exec.rejected = why;
      return undefined;
    };
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(exec.stdout) as Record<string, unknown>;
    } catch {
      return reject('error reading GVK from response');
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc))
      return reject('error reading GVK from response');
    if (doc.apiVersion !== p.apiVersion)
      return reject(
        `apiVersion from credential plugin response did not match expected apiVersion:${p.apiVersion}, actual apiVersion:${String(doc.apiVersion)}`,
      );
    // Strict decoding; its error is not wrapped since it may contain credentials.
    const undecodable = 'error decoding credential provider plugin response from stdout';
    const known = ['apiVersion', 'kind', 'cacheKeyType', 'cacheDuration', 'auth'];
    if (Object.keys(doc).some((k) => !known.includes(k))) return reject(undecodable);
    if (doc.kind !== 'CredentialProviderResponse') return reject(undecodable);
    if (doc.cacheKeyType !== undefined && typeof doc.cacheKeyType !== 'string')
      return reject(undecodable);
    let cacheMs: number | undefined;
    if (doc.cacheDuration !== undefined && doc.cacheDuration !== null) {
      if (typeof doc.cacheDuration !== 'string') return reject(undecodable);
      try {
        cacheMs = parseGoDuration(doc.cacheDuration);
      } catch (err) {
        if (err instanceof GoDurationError) return reject(undecodable);
        throw err;
      }
    }
    const auth: Record<string, AuthConfig> = {};
    if (doc.auth !== undefined && doc.auth !== null) {
      if (typeof doc.auth !== 'object' || Array.isArray(doc.auth)) return reject(undecodable);
      for (const [k, v] of Object.entries(doc.auth as Record<string, unknown>)) {
        if (!v || typeof v !== 'object') return reject(undecodable);
        const a = v as Record<string, unknown>;
        if (Object.keys(a).some((f) => f !== 'username' && f !== 'password'))
          return reject(undecodable);
        if ((a.username ?? '') !== '' && typeof a.username !== 'string') return reject(undecodable);
        if ((a.password ?? '') !== '' && typeof a.password !== 'string') return reject(undecodable);
        auth[k] = { username: String(a.username ?? ''), password: String(a.password ?? '') };
      }
    }
    if (
      token &&
      p.tokenAttributes?.cacheType !== 'Token' &&
      Object.values(auth).some((a) => a.password === token)
    )
      return reject('the service account token came back as the password without cacheType Token');
    const type = String(doc.cacheKeyType ?? '');
    if (!['Image', 'Registry', 'Global'].includes(type))
      return reject(
        `credential provider plugin did not return a valid cacheKeyType: ${JSON.stringify(type)}`,
      );
    return { cacheKeyType: type, cacheMs, auth };
  }

  private exec(p: ProviderConfig, image: string, request: string): Promise<ProviderExec> {
    const argv = [join(this.opts.binDir, p.name), ...p.args];
    const configEnv = Object.fromEntries(p.env.map((e) => [e.name, e.value]));
    const startedAt = Date.now();
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0] as string, p.args, {
        // The kubelet's environment, then the config's: later entries win.
        env: {
          ...(this.opts.env ?? process.env),
          ...configEnv,
          [CHILD_ENV]: process.env[RUN_ENV] ?? 'kubelet-emulation',
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => {
        stdout += b;
      });
      child.stderr.on('data', (b: Buffer) => {
        stderr += b;
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({
          provider: p.name,
          image,
          argv,
          configEnv,
          request,
          stdout,
          stderr,
          code,
          startedAt,
          ms: performance.now() - t0,
        });
      });
      child.stdin.end(request);
    });
  }
}
