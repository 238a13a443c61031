// `doctor`: what a host entry point would use and whether it would work, checked without using
// anything up. The entry point lists its own findings (config file, directories, docker's
// config.json); the Vault part is shared: reachable, the login works, each path is allowed.
import { lstatSync } from 'node:fs';
import { describe, VaultHttpError } from './errors.js';
import type { Source } from './registry-entries.js';
import { createTransport } from './transport.js';
import { VaultClient } from './vault.js';
import type { Connection } from './vault-connection.js';

export type Verdict = 'ok' | 'warn' | 'fail' | 'skip';

export interface Finding {
  verdict: Verdict;
  /** What was checked, in a few words: "config file", "vault login". */
  what: string;
  detail: string;
  fix?: string;
}

const MARK: Record<Verdict, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/** The report as printed: one line per finding, its fix indented below, then a summary. */
export function renderReport(title: string, findings: Finding[]): string {
  const lines = [title];
  for (const f of findings) {
    lines.push(`  ${MARK[f.verdict]}  ${f.what}: ${f.detail}`);
    if (f.fix) lines.push(`        fix: ${f.fix.replace(/\n/g, '\n             ')}`);
  }
  const fails = findings.filter((f) => f.verdict === 'fail').length;
  const warns = findings.filter((f) => f.verdict === 'warn').length;
  lines.push(fails || warns ? `${fails} problem(s), ${warns} warning(s).` : 'No problems found.');
  return `${lines.join('\n')}\n`;
}

/** "1 registries entry", "3 registries entries": how much a configuration file configures. */
export const entryCount = (n: number): string => `${n} registries ${n === 1 ? 'entry' : 'entries'}`;

/** A failed check from an error: its message, and its hint as the fix. */
export function errorFinding(what: string, err: unknown): Finding {
  const [first = '', ...rest] = describe(err).split('\n');
  return { verdict: 'fail', what, detail: first, fix: rest.join('\n') || undefined };
}

/** 0 when nothing failed; a warning alone does not fail the check. */
export function doctorExit(findings: Finding[]): number {
  return findings.some((f) => f.verdict === 'fail') ? 1 : 0;
}

/**
 * A directory the entry point keeps state in: fine when missing (it is made 0700 on first use);
 * otherwise it must be a real directory of this user's, closed to others.
 */
export function dirFinding(
  what: string,
  dir: string,
  fixSetting: string,
  /** A place in a list of fallbacks: one not to be trusted is skipped, which is only a warning. */
  skipped = false,
): Finding {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(dir);
  } catch {
    return { verdict: 'ok', what, detail: `${dir} (made 0700 on first use)` };
  }
  const me = process.getuid?.() ?? 0;
  const wrong = st.isSymbolicLink()
    ? 'is a symlink'
    : !st.isDirectory()
      ? 'is not a directory'
      : st.uid !== me
        ? `belongs to uid ${st.uid}, not this user (uid ${me})`
        : (st.mode & 0o077) !== 0
          ? `is open to others (mode ${(st.mode & 0o777).toString(8)})`
          : undefined;
  if (!wrong) return { verdict: 'ok', what, detail: `${dir} (private)` };
  return {
    verdict: skipped ? 'warn' : 'fail',
    what,
    detail: `${dir} ${wrong}: ${skipped ? 'it is skipped for the next place' : 'it is not trusted'}`,
    fix: `Remove it if someone else made it, or set ${fixSetting} to a directory of this user's.`,
  };
}

/** A Vault path an entry uses, and the capability its request needs. */
export interface PathUse {
  /** Who uses it, for the report: "registry 127.0.0.1:5000", "secret app-db". */
  who: string;
  path: string;
  need: 'read' | 'create';
}

/** The path a registry entry's source uses, and the capability its request needs there. */
export function pathUses(who: string, source: Source): PathUse[] {
  return [{ who, path: source.path, need: source.method === 'read' ? 'read' : 'create' }];
}

/** How an entry point logs in (an auth method has this shape); the doctor only calls it. */
export interface DoctorLogin {
  readonly describe: string;
  login(vault: VaultClient, now: number): Promise<{ token: string; revocable: boolean }>;
}

export interface VaultCheck {
  connection: Connection;
  /** How the entry point logs in, or why the doctor cannot try it without using it up. */
  auth: { method: DoctorLogin } | { skip: string };
  paths: PathUse[];
  now: number;
}

/** The doctor's own calls are quick and tried once: it reports, it does not wait out an outage. */
const DOCTOR_LIMIT_MS = 10_000;

async function health(vault: VaultClient, url: string): Promise<Finding> {
  const what = 'vault reachable';
  try {
    await vault.call({
      method: 'GET',
      path: 'sys/health?standbyok=true&perfstandbyok=true',
      retries: 0,
    });
    return { verdict: 'ok', what, detail: `${url} answers and is unsealed` };
  } catch (err) {
    if (err instanceof VaultHttpError) {
      const state =
        err.status === 503 ? 'is sealed' : err.status === 501 ? 'is not initialised' : undefined;
      if (state)
        return {
          verdict: 'fail',
          what,
          detail: `${url} ${state} (sys/health answered ${err.status})`,
          fix: 'Unseal or initialise Vault, or point vault.url at a node that serves.',
        };
      // Another status still means something answered; the login below says more.
      return { verdict: 'ok', what, detail: `${url} answers (sys/health: ${err.status})` };
    }
    const f = errorFinding(what, err);
    return { ...f, fix: f.fix ?? 'Check vault.url and the network path to it.' };
  }
}

/** What `sys/capabilities-self` grants the token on each path. */
async function capabilities(
  vault: VaultClient,
  token: string,
  namespace: string | undefined,
  paths: string[],
): Promise<Record<string, string[]>> {
  const answer = (await vault.call({
    method: 'POST',
    path: 'sys/capabilities-self',
    token,
    namespace,
    body: { paths },
    retries: 0,
  })) as Record<string, unknown>;
  const out: Record<string, string[]> = {};
  for (const p of paths) {
    const caps = answer?.[p] ?? (paths.length === 1 ? answer?.capabilities : undefined);
    out[p] = Array.isArray(caps) ? caps.map(String) : [];
  }
  return out;
}

function allows(caps: string[], need: PathUse['need']): boolean {
  return (
    caps.includes('root') || caps.includes(need) || (need === 'create' && caps.includes('update'))
  );
}

function pathFindings(uses: PathUse[], granted: Record<string, string[]>): Finding[] {
  return uses.map((u) => {
    const caps = granted[u.path] ?? [];
    const what = `policy for ${u.who}`;
    if (allows(caps, u.need))
      return { verdict: 'ok', what, detail: `${u.need} on ${u.path} is allowed` };
    return {
      verdict: 'fail',
      what,
      detail: `${u.need} on ${u.path} is not allowed (the token has: ${caps.join(', ') || 'nothing'})`,
      fix: `Add to the token's policy: path "${u.path}" { capabilities = ["${u.need === 'read' ? 'read' : 'create", "update'}"] }, or fix the path if it is misspelt.`,
    };
  });
}

/** Vault reachable, the login works, each path allowed; the doctor's own token is revoked after. */
export async function vaultFindings(check: VaultCheck): Promise<Finding[]> {
  const c = check.connection;
  const vault = new VaultClient({
    url: c.url,
    transport: createTransport(c.tls, c.names),
    retries: 0,
    deadline: check.now + Math.min(c.timeoutMs, DOCTOR_LIMIT_MS),
  });
  const out = [await health(vault, c.url)];
  if (out[0]?.verdict === 'fail') return out;
  if ('skip' in check.auth) {
    out.push({ verdict: 'skip', what: 'vault login', detail: check.auth.skip });
    return out;
  }
  const method = check.auth.method;
  let login: Awaited<ReturnType<DoctorLogin['login']>>;
  try {
    login = await method.login(vault, check.now);
  } catch (err) {
    const f = errorFinding('vault login', err);
    out.push({ ...f, detail: `${method.describe}: ${f.detail}` });
    return out;
  }
  out.push({ verdict: 'ok', what: 'vault login', detail: `${method.describe} works` });
  try {
    if (check.paths.length) {
      const granted = await capabilities(vault, login.token, c.namespace, [
        ...new Set(check.paths.map((p) => p.path)),
      ]);
      out.push(...pathFindings(check.paths, granted));
    }
  } catch (err) {
    out.push({
      verdict: 'warn',
      what: 'policy',
      detail: `could not ask sys/capabilities-self: ${describe(err).split('\n')[0]}`,
    });
  } finally {
    if (login.revocable)
      await vault.revokeSelf(login.token, c.authNamespace).catch(() => undefined);
  }
  return out;
}
