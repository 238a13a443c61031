// Runs commands of the PACKED orb (orb/dist/orb.yml) as CircleCI runs a job: parameters
// substituted, each `run` step in its own shell (`bash -eo pipefail`, or the command's shebang),
// the step's `environment`, a `$BASH_ENV` file every step sources, CIRCLE_* variables, and
// `when` semantics (on_success steps are skipped after a failure, `always` steps still run).
import { spawn } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PACKED_ORB = join(ROOT, 'orb', 'dist', 'orb.yml');

export type When = 'on_success' | 'on_fail' | 'always';
export type ParamValue = string | number | boolean;

/** A job step: an orb command invocation, or a plain `run` step of the user's config. */
export type JobStep =
  | { orb: string; parameters?: Record<string, ParamValue> }
  | { run: string; name?: string; when?: When; environment?: Record<string, string> };

export interface RunJobOptions {
  steps: JobStep[];
  /** Scratch directory for the job: HOME, TMPDIR, $BASH_ENV and the `circleci` stand-in. */
  dir: string;
  /** Project/context variables and overrides of the CIRCLE_* defaults (undefined removes one). */
  env?: Record<string, string | undefined>;
  /** Directories put first on PATH, e.g. argv recorders. */
  pathPrepend?: string[];
  /** Commands left off PATH (e.g. ['jq', 'python3'] to show the orb needs neither). */
  hide?: string[];
  /** What `circleci run oidc get --claims '{"aud": A}'` prints, by audience A. */
  oidcTokens?: Record<string, string>;
  /** How many `circleci run oidc get` calls answer nothing before tokens are served. */
  oidcEmptyAnswers?: number;
  /** Leave the `circleci` CLI off PATH. */
  noCircleciCli?: boolean;
  /** Go on with a job already run in `dir`: its $BASH_ENV file is kept, not emptied. */
  resume?: boolean;
  /** Kill a step after this long (default 120 s). */
  stepTimeoutMs?: number;
  orbFile?: string;
}

export interface StepResult {
  name: string;
  when: When;
  status: 'success' | 'failed' | 'skipped';
  exitCode: number | null;
  /** stdout and stderr interleaved as they arrived. */
  output: string;
  durationMs: number;
}

export interface JobResult {
  success: boolean;
  steps: StepResult[];
  /** Every step's output, in order. */
  output: string;
  /** The $BASH_ENV file's final content. */
  bashEnv: string;
  home: string;
  tmpDir: string;
  /** Argument lists the `circleci` stand-in received. */
  circleciCalls: string[][];
}

interface RunStep {
  name: string;
  command: string;
  when: When;
  environment: Record<string, string>;
}

interface ParamDef {
  type: 'string' | 'boolean' | 'integer' | 'enum' | 'env_var_name';
  default?: ParamValue;
  enum?: string[];
}

interface OrbCommand {
  parameters?: Record<string, ParamDef>;
  steps: { run: string | Record<string, unknown> }[];
}

export function loadPackedOrb(file = PACKED_ORB): { commands: Record<string, OrbCommand> } {
  return parse(readFileSync(file, 'utf8'));
}

function checkType(cmd: string, key: string, def: ParamDef, value: ParamValue): void {
  const bad = (form: string) =>
    new Error(`${cmd}: parameter ${key} must be ${form}, got ${JSON.stringify(value)}`);
  if (def.type === 'boolean' && typeof value !== 'boolean') throw bad('a boolean');
  if (def.type === 'integer' && !Number.isInteger(value)) throw bad('an integer');
  if (def.type === 'enum' && !def.enum?.includes(String(value))) throw bad(`one of ${def.enum}`);
  if ((def.type === 'string' || def.type === 'env_var_name') && typeof value !== 'string') {
    throw bad('a string');
  }
}

/** An orb command's steps with `<< parameters.x >>` substituted, as CircleCI compiles them. */
export function expandCommand(
  orb: { commands: Record<string, OrbCommand> },
  name: string,
  given: Record<string, ParamValue> = {},
): RunStep[] {
  const cmd = orb.commands[name];
  if (!cmd) throw new Error(`the orb has no command ${name}`);
  const defs = cmd.parameters ?? {};
  for (const key of Object.keys(given)) {
    if (!defs[key]) throw new Error(`${name}: unknown parameter ${key}`);
  }
  const values: Record<string, string> = {};
  for (const [key, def] of Object.entries(defs)) {
    const value = given[key] ?? def.default;
    if (value === undefined) throw new Error(`${name}: required parameter ${key} is missing`);
    checkType(name, key, def, value);
    values[key] = String(value);
  }
  const subst = (text: string) =>
    text.replace(/<<\s*parameters\.([A-Za-z0-9_-]+)\s*>>/g, (_, key: string) => {
      const value = values[key];
      if (value === undefined) throw new Error(`${name}: << parameters.${key} >> is not declared`);
      return value;
    });
  return cmd.steps.map((step, i) => {
    if (!('run' in step)) throw new Error(`${name}: step ${i} is not a run step`);
    const run = typeof step.run === 'string' ? { command: step.run } : step.run;
    const env = (run.environment ?? {}) as Record<string, ParamValue>;
    return {
      name: subst(String(run.name ?? `${name} step ${i + 1}`)),
      command: subst(String(run.command)),
      when: (run.when as When | undefined) ?? 'on_success',
      environment: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, subst(String(v))])),
    };
  });
}

// A `circleci` CLI stand-in for `circleci run oidc get [--claims JSON] [--root-issuer]`:
// validates its arguments like the real CLI and prints the token the test wrote for the audience.
const STAND_IN = `
const fs = require('node:fs');
const path = require('node:path');
const dir = path.join(__dirname, '..', 'circleci');
const args = process.argv.slice(2);
fs.appendFileSync(path.join(dir, 'calls.jsonl'), JSON.stringify(args) + '\\n');
const fail = (msg) => { process.stderr.write('Error: ' + msg + '\\n'); process.exit(1); };
if (args[0] !== 'run' || args[1] !== 'oidc' || args[2] !== 'get') fail('unknown command "' + args.join(' ') + '" for "circleci"');
let claims = {};
for (let i = 3; i < args.length; i++) {
  if (args[i] === '--root-issuer') continue;
  if (args[i] !== '--claims') fail('unknown flag: ' + args[i]);
  if (i + 1 >= args.length) fail('flag needs an argument: --claims');
  try { claims = JSON.parse(args[++i]); } catch { fail('failed to parse claims: invalid JSON'); }
  if (!claims || typeof claims !== 'object' || Array.isArray(claims)) fail('claims must be a JSON object');
}
const emptyFile = path.join(dir, 'empty-answers');
const empty = Number(fs.readFileSync(emptyFile, 'utf8'));
if (empty > 0) { fs.writeFileSync(emptyFile, String(empty - 1)); process.exit(0); }
const tokens = JSON.parse(fs.readFileSync(path.join(dir, 'tokens.json'), 'utf8'));
const token = tokens[claims.aud ?? ''];
if (!token) fail('no token available for audience ' + JSON.stringify(claims.aud ?? ''));
process.stdout.write(token + '\\n');
`;

function installStandIn(dir: string, opts: RunJobOptions): string {
  const bin = join(dir, 'bin');
  const state = join(dir, 'circleci');
  mkdirSync(bin, { recursive: true });
  mkdirSync(state, { recursive: true });
  writeFileSync(join(state, 'tokens.json'), JSON.stringify(opts.oidcTokens ?? {}), { mode: 0o600 });
  writeFileSync(join(state, 'empty-answers'), String(opts.oidcEmptyAnswers ?? 0));
  writeFileSync(join(state, 'calls.jsonl'), '');
  writeFileSync(join(bin, 'circleci'), `#!${process.execPath}\n${STAND_IN}`);
  chmodSync(join(bin, 'circleci'), 0o755);
  return bin;
}

/** A directory linking every command on PATH except the hidden ones. */
function shadowPath(dir: string, hide: string[]): string {
  const shadow = join(dir, 'shadow-bin');
  // A job run in slices (resume) keeps the directory its first slice made.
  if (existsSync(shadow)) return shadow;
  mkdirSync(shadow, { recursive: true });
  const linked = new Set(hide);
  for (const p of (process.env.PATH ?? '').split(delimiter)) {
    if (!p || !existsSync(p)) continue;
    for (const entry of readdirSync(p)) {
      if (linked.has(entry)) continue;
      linked.add(entry);
      symlinkSync(join(p, entry), join(shadow, entry));
    }
  }
  return shadow;
}

function jobEnv(opts: RunJobOptions, home: string, tmp: string, bashEnv: string) {
  const path = [
    ...(opts.pathPrepend ?? []),
    ...(opts.noCircleciCli ? [] : [installStandIn(opts.dir, opts)]),
    ...(opts.hide?.length ? [shadowPath(opts.dir, opts.hide)] : [process.env.PATH ?? '']),
  ].join(delimiter);
  const env: Record<string, string | undefined> = {
    PATH: path,
    HOME: home,
    TMPDIR: tmp,
    BASH_ENV: bashEnv,
    LANG: 'C.UTF-8',
    CI: 'true',
    CIRCLECI: 'true',
    CIRCLE_BUILD_NUM: String(randomInt(1000, 99999)),
    CIRCLE_WORKFLOW_JOB_ID: randomUUID(),
    CIRCLE_WORKFLOW_ID: randomUUID(),
    CIRCLE_JOB: 'build',
    CIRCLE_BRANCH: 'main',
    CIRCLE_SHA1: randomUUID().replaceAll('-', '').slice(0, 40),
    CIRCLE_PROJECT_USERNAME: 'acme',
    CIRCLE_PROJECT_REPONAME: 'widgets',
    CIRCLE_WORKING_DIRECTORY: '~/project',
    ...opts.env,
  };
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
}

function runStep(
  step: RunStep,
  env: Record<string, string>,
  cwd: string,
  scriptFile: string,
  timeoutMs: number,
): Promise<{ exitCode: number | null; output: string }> {
  // CircleCI runs a command that starts with a shebang through that interpreter.
  let file = '/bin/bash';
  let args = ['-eo', 'pipefail', '-c', step.command];
  if (step.command.startsWith('#!')) {
    writeFileSync(scriptFile, step.command, { mode: 0o700 });
    file = scriptFile;
    args = [];
  }
  // The step's output goes to one file opened for appending, as a CI runner's log: stdout and
  // stderr interleave as written, and a process can open it again through /proc/<pid>/fd/2 (a
  // pipe or a pty can be too; Node's own stdio pipes are sockets, which cannot).
  const log = `${scriptFile}.log`;
  writeFileSync(log, '');
  const fd = openSync(log, 'a');
  return new Promise((done) => {
    const child = spawn(file, args, {
      cwd,
      env: { ...env, ...step.environment },
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    closeSync(fd);
    let killed = '';
    const timer = setTimeout(() => {
      killed = `\nToo long with no output (exceeded ${timeoutMs} ms): killed\n`;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ exitCode: code, output: readFileSync(log, 'utf8') + killed });
    });
  });
}

export async function runJob(opts: RunJobOptions): Promise<JobResult> {
  const orb = loadPackedOrb(opts.orbFile);
  const home = join(opts.dir, 'home');
  const tmp = join(opts.dir, 'tmp');
  const project = join(home, 'project');
  mkdirSync(project, { recursive: true });
  mkdirSync(tmp, { recursive: true });
  const bashEnvFile = join(opts.dir, 'bash_env');
  if (!opts.resume || !existsSync(bashEnvFile)) writeFileSync(bashEnvFile, '');
  const env = jobEnv(opts, home, tmp, bashEnvFile);

  const runSteps: RunStep[] = opts.steps.flatMap((s) =>
    'orb' in s
      ? expandCommand(orb, s.orb, s.parameters)
      : [
          {
            name: s.name ?? s.run.split('\n')[0] ?? 'run',
            command: s.run,
            when: s.when ?? 'on_success',
            environment: s.environment ?? {},
          },
        ],
  );

  const steps: StepResult[] = [];
  let failed = false;
  for (const [i, step] of runSteps.entries()) {
    const runs = step.when === 'always' || (step.when === 'on_fail') === failed;
    if (!runs) {
      steps.push({ ...pick(step), status: 'skipped', exitCode: null, output: '', durationMs: 0 });
      continue;
    }
    const started = Date.now();
    const script = join(opts.dir, `step-${i}.sh`);
    const r = await runStep(step, env, project, script, opts.stepTimeoutMs ?? 120_000);
    const ok = r.exitCode === 0;
    failed ||= !ok;
    steps.push({
      ...pick(step),
      status: ok ? 'success' : 'failed',
      exitCode: r.exitCode,
      output: r.output,
      durationMs: Date.now() - started,
    });
  }
  const callsFile = join(opts.dir, 'circleci', 'calls.jsonl');
  const calls = existsSync(callsFile)
    ? readFileSync(callsFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string[])
    : [];
  return {
    success: !failed,
    steps,
    output: steps.map((s) => s.output).join(''),
    bashEnv: readFileSync(bashEnvFile, 'utf8'),
    home,
    tmpDir: tmp,
    circleciCalls: calls,
  };
}

function pick(step: RunStep): Pick<StepResult, 'name' | 'when'> {
  return { name: step.name, when: step.when };
}
