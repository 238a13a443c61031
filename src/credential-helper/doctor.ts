// `docker-credential-vault doctor`: which configuration and cache this user's helper uses, whether
// docker will call it for each configured registry (config.json's credHelpers keys must be exactly
// what docker looks up), and whether Vault lets it lease there.
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { doctorLogin, stateDirFinding } from '../auth/doctor-login.js';
import {
  dirFinding,
  doctorExit,
  entryCount,
  errorFinding,
  type Finding,
  pathUses,
  renderReport,
  vaultFindings,
} from '../core/doctor.js';
import { hostConfigPath } from '../core/host-config-path.js';
import { privateDirCandidates } from '../core/private-dir.js';
import { DOCKER_HUB, DOCKER_HUB_AUTH_KEY, hostOf, registryKey } from '../core/registry-name.js';
import { cacheFiles } from './cache.js';
import { NAME, stdout } from './protocol.js';
import { type HelperConfig, loadHelperConfig } from './settings.js';

/** The suffix docker puts after `docker-credential-`. */
const SUFFIX = NAME.replace(/^docker-credential-/, '');

interface DockerConfig {
  file: string;
  credHelpers: Record<string, string>;
  credsStore?: string;
}

function dockerConfig(env: NodeJS.ProcessEnv): DockerConfig | Finding {
  const dir = env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
  const file = join(dir, 'config.json');
  let doc: { credHelpers?: unknown; credsStore?: unknown };
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      verdict: 'fail',
      what: 'docker config',
      detail: code ? `${file}: ${code}` : `${file} is not valid JSON`,
      fix: `Write ${file} with "credHelpers": {"<registry>": "${SUFFIX}"} for each registry (docs/credential-helper.md).`,
    };
  }
  const helpers = doc.credHelpers && typeof doc.credHelpers === 'object' ? doc.credHelpers : {};
  return {
    file,
    credHelpers: Object.fromEntries(Object.entries(helpers).map(([k, v]) => [k, String(v)])),
    credsStore: typeof doc.credsStore === 'string' ? doc.credsStore : undefined,
  };
}

/** The credHelpers key the docker CLI looks up for a configuration key. */
const dockerKey = (key: string): string => (key === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : key);

/** Each configured registry reaches the helper; each key sent to the helper is one docker uses. */
export function credHelperFindings(keys: string[], dc: DockerConfig): Finding[] {
  const out: Finding[] = [];
  const ours = Object.keys(dc.credHelpers).filter((k) => dc.credHelpers[k] === SUFFIX);
  for (const key of keys) {
    const want = dockerKey(key);
    const what = `credHelpers for ${key}`;
    if (dc.credHelpers[want] === SUFFIX) {
      out.push({ verdict: 'ok', what, detail: `"${want}": "${SUFFIX}"` });
      continue;
    }
    if (dc.credHelpers[want] !== undefined) {
      out.push({
        verdict: 'fail',
        what,
        detail: `"${want}" sends it to docker-credential-${dc.credHelpers[want]}, not this helper`,
        fix: `Set "${want}": "${SUFFIX}" in ${dc.file}.`,
      });
      continue;
    }
    if (dc.credsStore === SUFFIX) {
      out.push({ verdict: 'ok', what, detail: `credsStore "${SUFFIX}" sends every registry here` });
      continue;
    }
    const near = ours.find((k) => k !== want && registryKey(k) === key);
    const sameHost = ours.find(
      (k) => hostOf(k).split(':')[0] === key.split(':')[0] && registryKey(k) !== key,
    );
    out.push({
      verdict: 'fail',
      what,
      detail: near
        ? `the key "${near}" is never looked up: docker asks for exactly "${want}" (no scheme, no path)`
        : sameHost
          ? `no key "${want}"; "${sameHost}" names another port, and docker matches host:port exactly`
          : `no credHelpers key "${want}": docker will not call ${NAME} for it and pulls anonymously ("pull access denied")`,
      fix: `Add "${want}": "${SUFFIX}" to credHelpers in ${dc.file}.`,
    });
  }
  for (const k of ours) {
    // A configured registry's other spellings are harmless; a misspelt key is reported above.
    if (keys.includes(registryKey(k))) continue;
    out.push({
      verdict: 'warn',
      what: `credHelpers key "${k}"`,
      detail:
        'is sent to this helper, but the configuration has no registries entry for it: it answers not-found and docker goes on anonymously',
      fix: 'Add a registries entry for it, or remove the key.',
    });
  }
  return out;
}

/** The cache directory in use, after any better place someone else took first. */
function cacheDirFindings(env: NodeJS.ProcessEnv, chosen: string): Finding[] {
  const setting = 'XDG_RUNTIME_DIR (or TMPDIR)';
  const before = privateDirCandidates(env);
  const taken = before.slice(0, Math.max(0, before.indexOf(chosen)));
  return [
    ...taken.map((dir) => dirFinding('cache directory', dir, setting, true)),
    dirFinding('cache directory', chosen, setting),
  ];
}

function onPath(env: NodeJS.ProcessEnv): Finding {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const file = join(dir, NAME);
    try {
      accessSync(file, constants.X_OK);
      return { verdict: 'ok', what: 'on PATH', detail: file };
    } catch {
      // Not in this directory.
    }
  }
  return {
    verdict: 'fail',
    what: 'on PATH',
    detail: `no executable ${NAME} on PATH: docker cannot run it`,
    fix: `Install it (npm install -g vault-docker-login, or the package) or link it into a PATH directory.`,
  };
}

export async function doctor(env: NodeJS.ProcessEnv): Promise<number> {
  const file = hostConfigPath(env);
  const findings: Finding[] = [];
  let cfg: HelperConfig | undefined;
  try {
    cfg = await loadHelperConfig(file, env);
    findings.push({
      verdict: 'ok',
      what: 'config file',
      detail: `${file} (${entryCount(cfg.host.entries.length)})`,
    });
  } catch (err) {
    findings.push(errorFinding('config file', err));
  }
  findings.push(...cacheDirFindings(env, cacheFiles(env, file).dir));
  findings.push(onPath(env));
  const dc = dockerConfig(env);
  if ('verdict' in dc) findings.push(dc);
  if (cfg) {
    findings.push(...stateDirFinding(cfg.host.auth, env));
    const keys = cfg.host.entries.map((e) => registryKey(e.registry));
    if (!('verdict' in dc)) {
      findings.push({ verdict: 'ok', what: 'docker config', detail: dc.file });
      findings.push(...credHelperFindings(keys, dc));
    }
    findings.push(
      ...(await vaultFindings({
        connection: cfg.host.connection,
        auth: doctorLogin(cfg.host.auth, env, cfg.host.connection.authNamespace),
        paths: cfg.host.entries.flatMap((e) =>
          pathUses(`registry ${registryKey(e.registry)}`, e.source),
        ),
        now: Date.now(),
      })),
    );
  }
  stdout(renderReport(`${NAME} doctor`, findings));
  return doctorExit(findings);
}
