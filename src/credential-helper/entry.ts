// docker-credential-vault: the bin. Answers from the cache with node:fs alone; loads the
// configuration parser and the Vault client (slow-path.ts) only when the cache cannot answer.
import { describe } from '../core/errors.js';
import { privateDir } from '../core/private-dir.js';
import { CACHE_DIR_HINT, held, lookup, readCache } from './cache.js';
import { HELP } from './help.js';
import { withLock } from './lock.js';
import { fail, MISSING_SERVER_URL, NAME, readInput, stdout, USAGE, VERSION } from './protocol.js';
import { type HelperRequest, helperRequest } from './request.js';
import { respond } from './respond.js';

const HUB_SERVER = 'https://index.docker.io/v1/';
/**
 * Waiting for another process's answer: a holder that died frees the lock at once; one that
 * hangs is bounded by its own Vault time limit (vault.timeout), and is given up on after this.
 */
const WAIT_MS = 5 * 60_000;
/** A lock older than this belongs to a holder that hung past any time limit: it is broken. */
const STALE_MS = 10 * 60_000;

async function serverUrl(): Promise<string> {
  return (await readInput()).trim();
}

/**
 * Runs `body` holding the configuration's lock; meanwhile `poll` may answer (another process
 * minted what we wanted, or failed while we waited). Only the holder loads the Vault side.
 */
async function locked(
  req: HelperRequest,
  poll: () => number | undefined,
  body: () => Promise<number>,
): Promise<number> {
  try {
    privateDir(req.files.dir, CACHE_DIR_HINT);
    return await withLock(
      req.files.lock,
      { deadline: Date.now() + WAIT_MS, staleMs: STALE_MS, poll },
      body,
    );
  } catch (err) {
    return fail(describe(err));
  }
}

async function get(env: NodeJS.ProcessEnv): Promise<number> {
  const url = await serverUrl();
  if (!url) return fail(MISSING_SERVER_URL);
  const req = helperRequest(env, url);
  const l = lookup(readCache(req.files), req.configFile, req.stamp, req.key, Date.now());
  if (l.kind !== 'miss') return respond(req, l);
  const started = Date.now();
  return locked(
    req,
    () => {
      const doc = readCache(req.files);
      const now = lookup(doc, req.configFile, req.stamp, req.key, Date.now());
      if (now.kind !== 'miss') return respond(req, now);
      const f = doc?.failures[req.key];
      return f && f.at >= started ? respond(req, { kind: 'failed', ...f }) : undefined;
    },
    async () => (await import('./slow-path.js')).get(req),
  );
}

/** The registries with a credential in hand: server address -> user name. */
function list(env: NodeJS.ProcessEnv): number {
  const req = helperRequest(env, '');
  const doc = readCache(req.files);
  const now = Date.now();
  const servers: Record<string, string> = {};
  if (doc?.config === req.configFile && doc.stamp === req.stamp)
    for (const [key, e] of Object.entries(doc.entries))
      if (now < e.useUntil) servers[key === 'docker.io' ? HUB_SERVER : key] = e.username;
  stdout(`${JSON.stringify(servers)}\n`);
  return 0;
}

async function store(env: NodeJS.ProcessEnv): Promise<number> {
  let server = '';
  try {
    server = String(JSON.parse(await readInput()).ServerURL ?? '');
  } catch {
    // Only the server address is wanted, for the message; nothing of the input is shown.
  }
  const { configFile } = helperRequest(env, '');
  return fail(
    `Not stored: the credential for ${server || 'this registry'} is leased from Vault when a pull needs it (configuration ${configFile}). ` +
      'Nothing was saved. A registry in credHelpers needs no docker login; to keep a password in config.json instead, remove the registry from credHelpers.',
  );
}

async function erase(env: NodeJS.ProcessEnv): Promise<number> {
  const url = await serverUrl();
  if (!url) return fail(MISSING_SERVER_URL);
  const req = helperRequest(env, url);
  const doc = readCache(req.files);
  if (!doc || !held(doc, req.key)) return 0;
  return locked(
    req,
    () => undefined,
    async () => (await import('./slow-path.js')).erase(req),
  );
}

/** Any verb; a cache that cannot be trusted is reported here, whichever verb met it. */
async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    return await verb(argv, env);
  } catch (err) {
    return fail(describe(err));
  }
}

async function verb(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.length !== 1) return fail(USAGE);
  switch (argv[0]) {
    case 'get':
      return get(env);
    case 'list':
      return list(env);
    case 'store':
      return store(env);
    case 'erase':
      return erase(env);
    case 'doctor':
      return (await import('./doctor.js')).doctor(env);
    case 'version':
    case '--version':
      stdout(`${NAME} (vault-docker-login) ${VERSION}\n`);
      return 0;
    case '--help':
    case '-h':
      stdout(HELP);
      return 0;
    default:
      return fail(`Unknown credential action \`${argv[0]}\``);
  }
}

// Every write is synchronous, so exiting at once loses nothing and waits for no idle socket.
void main(process.argv.slice(2), process.env).then((code) => process.exit(code));
