// The orb and the TypeScript core read Vault's refusals alike: every case of
// test/tables/refusals.ts is served over HTTP to the core's Vault client (then explain.ts) and to
// the orb's http.sh (then hints.sh), with one retry allowed. Both must make the same number of
// attempts and explain the refusal with the same meaning. The host entry points' JWT login
// (auth/jwt.ts, explained by the same core) reads the login cases too, in the host file's words.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtAuth } from '../../src/auth/jwt.js';
import { parseConfig } from '../../src/core/config.js';
import { describe as describeError, VaultHttpError } from '../../src/core/errors.js';
import { explainIssue, explainLogin, unavailable } from '../../src/core/explain.js';
import { HOST_FILE_NAMES } from '../../src/core/host-config-names.js';
import { createTransport } from '../../src/core/transport.js';
import { VaultClient } from '../../src/core/vault.js';
import { MEANINGS, REFUSALS, type Refusal } from '../tables/refusals.js';

const SCRIPTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'orb', 'src', 'scripts');

/** An unsigned token with the claims the explanations read, expiring in an hour. */
function jwt(): string {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const claims = { iss: 'http://127.0.0.1:1/issuer', aud: 'ci', sub: 'project', exp };
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none' })}.${part(claims)}.sig`;
}

/** Case i answers at auth/m<i>/login or hub<i>/token/u/admin; attempts are counted per case. */
const attempts = new Map<number, number>();
let server: Server;
let url = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const i = Number(/^\/v1\/(?:auth\/m|hub)(\d+)\//.exec(req.url ?? '')?.[1]);
    const refusal = REFUSALS[i];
    req.resume();
    if (!refusal) {
      res.writeHead(500).end();
      return;
    }
    attempts.set(i, (attempts.get(i) ?? 0) + 1);
    const body = JSON.stringify({ errors: refusal.errors });
    res.writeHead(refusal.status, { 'content-type': 'application/json', 'retry-after': '0' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const ROWS = REFUSALS.map(
  (r, i) => [`${r.phase} ${r.status} ${JSON.stringify(r.errors)}`, i, r] as const,
);

async function core(i: number, r: Refusal): Promise<string> {
  const cfg = parseConfig({
    url,
    role: 'build',
    account: 'u',
    scope: 'admin',
    'auth-mount': `m${i}`,
    'engine-mount': `hub${i}`,
    retries: '1',
    timeout: '30',
  });
  const transport = createTransport();
  const client = new VaultClient({
    url,
    transport,
    retries: 1,
    deadline: Date.now() + 30_000,
    clock: { now: () => Date.now(), sleep: async () => {} },
  });
  const token = jwt();
  try {
    if (r.phase === 'login') await client.login(cfg.authMount, { role: cfg.role, jwt: token });
    else await client.call({ method: 'POST', path: cfg.source.path, body: { label: 'x' } });
  } catch (e) {
    return describeError(
      r.phase === 'login' ? explainLogin(e, cfg, token) : explainIssue(e, { ...cfg }),
    );
  } finally {
    await transport.close();
  }
  throw new Error('the refusal was taken for a success');
}

/**
 * Every case through the orb's scripts in one bash (sourced once; each case in a subshell of its
 * own): what the hint said, per case, after the attempts http.sh made.
 */
const ORB = `set -euo pipefail
for f in utils json http hints; do source "$SCRIPTS/$f.sh"; done
for CASE in $CASES; do
  (
    PHASE=\${PHASES[$CASE]}
    VDL_WORK=$(mktemp -d)
    trap 'rm -rf "$VDL_WORK"' EXIT
    VDL_RETRIES=1
    VDL_DEADLINE=$((SECONDS + 30))
    VDL_ROLE=build VDL_AUTH_MOUNT=m$CASE VDL_ENGINE_MOUNT=hub$CASE VDL_ACCOUNT=u VDL_SCOPE=admin
    printf '{}' >"$VDL_WORK/body.json"
    if [ "$PHASE" = login ]; then
      vdl_vault POST "auth/$VDL_AUTH_MOUNT/login" "" "$VDL_WORK/body.json" >/dev/null
      vdl_login_hint
    else
      vdl_vault POST "$VDL_ENGINE_MOUNT/token/u/admin" "" "$VDL_WORK/body.json" >/dev/null
      vdl_issue_hint "$VDL_ENGINE_MOUNT/token/u/admin" write
    fi
  )
  printf '\\x1e'
done`;

function orbAll(): Promise<string[]> {
  const phases = REFUSALS.map((r) => r.phase).join(' ');
  const script = `PHASES=(${phases})\nCASES="${REFUSALS.map((_, i) => i).join(' ')}"\n${ORB}`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], {
      env: { PATH: process.env.PATH, SCRIPTS, VDL_ADDR: url },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out.split('\x1e')) : reject(new Error(`bash exited ${code}: ${err}`)),
    );
  });
}

describe('the core reads the refusal table', () => {
  it.concurrent.each(ROWS)('%s', async (_, i, r) => {
    attempts.delete(i);
    const said = await core(i, r);
    expect({ attempts: attempts.get(i), said }).toEqual({
      attempts: r.retried ? 2 : 1,
      said: expect.stringContaining(MEANINGS[r.means].core),
    });
  });
});

describe('the orb reads the refusal table', () => {
  let said: string[] = [];
  beforeAll(async () => {
    attempts.clear();
    said = await orbAll();
  });
  it.each(ROWS)('%s', (_, i, r) => {
    expect({ attempts: attempts.get(i), said: said[i] }).toEqual({
      attempts: r.retried ? 2 : 1,
      said: expect.stringContaining(MEANINGS[r.means].orb),
    });
  });
});

/** As the credential helper logs in with auth.method jwt; Vault's state is explained by its caller. */
async function host(i: number): Promise<string> {
  const transport = createTransport(undefined, HOST_FILE_NAMES);
  const client = new VaultClient({
    url,
    transport,
    retries: 1,
    deadline: Date.now() + 30_000,
    clock: { now: () => Date.now(), sleep: async () => {} },
  });
  const token = jwt();
  const method = jwtAuth({
    mount: `m${i}`,
    role: 'build',
    identity: { getToken: async () => token },
    source: 'auth.jwt_file /run/jwt',
    names: HOST_FILE_NAMES,
  });
  try {
    await method.login(client, Date.now());
  } catch (e) {
    const conn = { retries: 1, timeoutMs: 30_000, names: HOST_FILE_NAMES };
    return describeError(e instanceof VaultHttpError ? (unavailable(e, conn) ?? e) : e);
  } finally {
    await transport.close();
  }
  throw new Error('the refusal was taken for a success');
}

describe("the host entry points' JWT login reads the refusal table, in the file's words", () => {
  const logins = ROWS.filter(([, , r]) => r.phase === 'login');
  it.concurrent.each(logins)('%s', async (_, i, r) => {
    attempts.delete(i);
    const said = await host(i);
    const meaning: { core: string; host?: string } = MEANINGS[r.means];
    expect({ attempts: attempts.get(i), said }).toEqual({
      attempts: r.retried ? 2 : 1,
      said: expect.stringContaining(meaning.host ?? meaning.core),
    });
    expect(said).not.toMatch(/\binputs?\b/);
  });
});
