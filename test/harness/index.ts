// startEnv(): OpenBao, the registry, the OIDC issuer and the two stand-ins, isolated per caller;
// with `{ daemon }` also a Docker daemon and a private image in the registry.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AliveRecord, callerFile, recordAliveAtStop } from './alive-tally.js';
import { startDaemon } from './daemon.js';
import { type Account, startEngine } from './engine.js';
import { startHub } from './hub.js';
import { startIssuer } from './issuer.js';
import { findLeaks } from './leak.js';
import { configureBao, configureNamespaces, startBao } from './openbao.js';
import { freePort } from './procs.js';
import { startPublicIssuers } from './public-issuers.js';
import { startRegistry } from './registry.js';
import { makeTls } from './tls.js';
import type { DaemonEnv, DaemonOptions, Fixtures, StartOptions, TestEnv } from './types.js';

export type * from './types.js';

export const fixtures: Fixtures = {
  githubMount: 'github',
  circleciMount: 'circleci',
  gitlabMount: 'gitlab',
  buildkiteMount: 'buildkite',
  audience: 'vault-docker-login',
  github: {
    owner: 'acme',
    repository: 'acme/widgets',
    ref: 'refs/heads/main',
    role: 'gh-push',
    roleOtherRef: 'gh-release',
    roleNoCreate: 'gh-read-only',
    roleCanRevoke: 'gh-can-revoke',
  },
  circleci: {
    orgId: '6f2e0c4e-1d2b-4c7a-9f51-0a8e3c5b7d11',
    projectId: 'c1a7d3e9-58b2-4f06-8d4c-2e9b7a61f0c3',
    role: 'cci-build',
    roleCanRevoke: 'cci-can-revoke',
  },
  gitlab: { projectPath: 'acme/widgets', role: 'gl-build' },
  buildkite: { organization: 'acme', pipeline: 'widgets', role: 'bk-build' },
  engineMount: 'dockerhub',
  account: 'acmebot',
  accountNoAdmin: 'acmereader',
  kvMount: 'secret',
  kvPath: 'registry/static',
  kvUsername: 'static-ci',
};

const secret = () => randomBytes(24).toString('base64url');
const b64 = (user: string, pass: string) => Buffer.from(`${user}:${pass}`).toString('base64');

export function startEnv(
  options: StartOptions & { daemon: true | DaemonOptions },
): Promise<DaemonEnv>;
export function startEnv(options?: StartOptions): Promise<TestEnv>;
export async function startEnv(options: StartOptions = {}): Promise<TestEnv | DaemonEnv> {
  const fx: Fixtures = options.namespaces
    ? { ...fixtures, namespaces: { login: 'ci', engine: 'ci/team' } }
    : fixtures;
  const caller = callerFile();
  const tmpDir = await mkdtemp(join(tmpdir(), 'vdl-env-'));
  const removeTmp = () => rmSync(tmpDir, { recursive: true, force: true });
  process.once('exit', removeTmp);
  const closers: (() => Promise<void>)[] = [];
  /** Every secret the environment issued or saw: see TestEnv.secrets. */
  const secretSources: (() => string[])[] = [];
  const secrets = () => secretSources.flatMap((source) => source());
  let aliveAtStop: () => AliveRecord | undefined = () => undefined;
  const stop = async () => {
    const alive = aliveAtStop();
    if (alive) recordAliveAtStop(alive);
    aliveAtStop = () => undefined;
    const closed = await Promise.allSettled(closers.reverse().map((c) => c()));
    closers.length = 0;
    await rm(tmpDir, { recursive: true, force: true });
    process.off('exit', removeTmp);
    const failure = closed.find((c) => c.status === 'rejected');
    if (failure) throw failure.reason;
  };

  try {
    const kvPassword = secret();
    // An empty Vault's engine has no accounts until a config write names one.
    const accounts = new Map<string, Account>(
      options.emptyVault
        ? []
        : [
            [fx.account, { password: secret(), scopes: ['read', 'write', 'admin', 'public_read'] }],
            [fx.accountNoAdmin, { password: secret(), scopes: ['read', 'write', 'public_read'] }],
          ],
    );
    const [issuerPort, hubPort, enginePort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
    ]);
    const issuer = await startIssuer(fx, issuerPort ?? 0);
    closers.push(issuer.close);
    secretSources.push(() => issuer.minted());
    const started = <T extends { close(): Promise<void> }>(s: T) => {
      closers.push(() => s.close());
      return s;
    };
    const publicIssuers = options.publicIssuers
      ? started(await startPublicIssuers(join(tmpDir, 'public-issuers'), issuer.url))
      : undefined;
    const baoEnv: Record<string, string> = publicIssuers
      ? { HTTPS_PROXY: publicIssuers.proxyUrl, SSL_CERT_FILE: publicIssuers.caFile }
      : {};
    const withDaemon = options.daemon === true ? {} : options.daemon;
    const [bao, registry, daemon] = await Promise.all([
      startBao(tmpDir, baoEnv).then(started),
      startRegistry(join(tmpDir, 'registry')).then(started),
      withDaemon &&
        startDaemon(join(tmpDir, 'daemon'), withDaemon).then((d) => {
          closers.push(async () => {
            await d.stop();
            // The daemon's log must hold none of the secrets the environment saw.
            const leaks = findLeaks(d.logs(), secrets());
            if (leaks.length > 0) {
              throw new Error(`Secrets in the Docker daemon's log:\n${leaks.join('\n')}`);
            }
          });
          return d;
        }),
    ]);
    secretSources.push(
      () => [bao.rootToken, kvPassword, b64(fx.kvUsername, kvPassword)],
      () => [registry.admin.secret, b64(registry.admin.username, registry.admin.secret)],
      () => registry.issuedTokens(),
    );
    registry.addSecret(fx.kvUsername, kvPassword, ['pull', 'push']);
    const [privateImage] = await Promise.all([
      daemon?.pushPrivateImage(registry, registry.admin),
      (options.emptyVault ? Promise.resolve() : configureBao(bao, fx, issuer.url, kvPassword)).then(
        () => fx.namespaces && configureNamespaces(bao, fx, issuer.url, fx.namespaces),
      ),
    ]);
    const passwords = new Map([...accounts].map(([u, a]) => [u, a.password]));
    const hub = await startHub(passwords, registry, hubPort ?? 0);
    closers.push(hub.close);
    secretSources.push(() => hub.issued().flatMap((t) => [t.token, b64(t.username, t.token)]));
    const tls = options.tls ? await makeTls(join(tmpDir, 'tls')) : undefined;
    const engine = await startEngine({
      baoPort: bao.port,
      rootToken: bao.rootToken,
      hubUrl: hub.url,
      mount: fx.engineMount,
      accounts,
      port: enginePort ?? 0,
      tls: tls && {
        key: await readFile(tls.serverKeyFile),
        cert: await readFile(tls.serverCertFile),
        ca: tls.caPem,
        requestCert: options.tls?.clientCerts === true,
        rejectUnauthorized: options.tls?.clientCerts === true,
      },
    });
    closers.push(engine.close);
    secretSources.push(() => engine.vaultTokens());
    if (options.leaseTtl !== undefined) engine.setLeaseTtl(options.leaseTtl);
    aliveAtStop = () => ({
      test: caller,
      leases: engine.liveLeases(),
      tokens: hub.liveTokens().length,
    });

    return {
      vaultAddr: engine.url,
      baoAddr: bao.addr,
      rootToken: bao.rootToken,
      issuer,
      engine,
      hub,
      registry,
      fixtures: fx,
      secrets,
      async vaultTokenAlive(token) {
        const r = await fetch(`${bao.addr}/v1/auth/token/lookup-self`, {
          headers: { 'X-Vault-Token': token },
        });
        await r.body?.cancel();
        return r.status === 200;
      },
      ...(tls && {
        tls: {
          caPem: tls.caPem,
          caFile: tls.caFile,
          clientCertFile: tls.clientCertFile,
          clientKeyFile: tls.clientKeyFile,
        },
      }),
      ...(daemon && { daemon, privateImage }),
      publicIssuers,
      tmpDir,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
