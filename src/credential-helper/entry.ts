// docker-credential-vault: the bin. Answers from the cache with node:fs alone; loads the
// configuration parser and the Vault client (slow-path.ts) only when the cache cannot answer.
import { held, lookup, readCache } from './cache.js';
import {
  answer,
  fail,
  MISSING_SERVER_URL,
  NAME,
  notFound,
  readInput,
  stdout,
  USAGE,
  VERSION,
} from './protocol.js';
import { helperRequest } from './request.js';

const HUB_SERVER = 'https://index.docker.io/v1/';

async function serverUrl(): Promise<string> {
  return (await readInput()).trim();
}

async function get(env: NodeJS.ProcessEnv): Promise<number> {
  const url = await serverUrl();
  if (!url) return fail(MISSING_SERVER_URL);
  const req = helperRequest(env, url);
  const l = lookup(readCache(req.files), req.configFile, req.stamp, req.key, Date.now());
  if (l.kind === 'hit') {
    answer({ ServerURL: url, Username: l.entry.username, Secret: l.entry.secret });
    return 0;
  }
  if (l.kind === 'not-found') return notFound(`no registry "${req.key}" in ${req.configFile}.`);
  return (await import(/* webpackIgnore: true */ './slow-path.js')).get(req);
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
  return (await import(/* webpackIgnore: true */ './slow-path.js')).erase(req);
}

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
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
    case 'version':
      stdout(`${NAME} (vault-docker-login) ${VERSION}\n`);
      return 0;
    default:
      return fail(`Unknown credential action \`${argv[0]}\``);
  }
}

// Every write is synchronous, so exiting at once loses nothing and waits for no idle socket.
process.exit(await main(process.argv.slice(2), process.env));
