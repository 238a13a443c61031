// Runs the Action's dist/ bundles the way the GitHub runner does: INPUT_* (with action.yml
// defaults), per-step GITHUB_OUTPUT / GITHUB_STATE / GITHUB_ENV files, STATE_* for post,
// ACTIONS_ID_TOKEN_REQUEST_* from the test issuer, RUNNER_TEMP and a per-run DOCKER_CONFIG.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { TestEnv } from './types.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface WorkflowCommand {
  command: string;
  props: Record<string, string>;
  message: string;
}

export interface StepRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved in arrival order. */
  output: string;
  commands: WorkflowCommand[];
  /** Raw text of the step's GITHUB_OUTPUT / GITHUB_STATE / GITHUB_ENV / GITHUB_PATH files. */
  files: { output: string; state: string; env: string; path: string };
  ms: number;
}

export interface ActionRun {
  main: StepRun;
  post?: StepRun;
  /** Runs the post step (again) with the latest state, as a re-run of the job would. */
  runPost(overrides?: Record<string, string>): Promise<StepRun>;
  outputs: Record<string, string>;
  state: Record<string, string>;
  dockerConfig: string;
  /** The environment main ran in (without the per-step GITHUB_* files): a benchmark's floor runs in it. */
  env: NodeJS.ProcessEnv;
  /**
   * The environment of the job's later steps, as the runner builds it: main's GITHUB_ENV
   * variables set, its GITHUB_PATH directories first on PATH.
   */
  stepEnv: NodeJS.ProcessEnv;
  /** Everything printed by every step run so far plus the runner files, for leak scans. */
  readonly everything: string;
}

export interface ActionRunOptions {
  env: TestEnv;
  inputs: Record<string, string>;
  /** Extra environment for both steps (undefined removes a variable). */
  extraEnv?: Record<string, string | undefined>;
  /** Set ACTIONS_ID_TOKEN_REQUEST_* (a workflow with `id-token: write`). Default true. */
  idToken?: boolean;
  /** Run the post step. Default true. */
  post?: boolean;
  /** Directories put first on PATH (argv recorders, stand-in tools). */
  pathPrepend?: string[];
  /** Reuse a DOCKER_CONFIG directory (default: a fresh one). */
  dockerConfig?: string;
  /** The node binary that runs the steps (default: this process's; see test/harness/node24.ts). */
  node?: string;
  /** The directory holding main/ and post/ (default: the repository's dist/). */
  dist?: string;
}

/** The runner's rule: spaces to `_`, upper-case; hyphens stay. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

export function actionDefaults(): Record<string, string> {
  const meta = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: unknown }>;
  };
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(meta.inputs)) {
    if (spec.default !== undefined) out[name] = String(spec.default);
  }
  return out;
}

/** Parses the file-command format: `name<<DELIM\nvalue\nDELIM` and legacy `name=value` lines. */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (!line) continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc?.[1] && heredoc[2]) {
      const end = lines.indexOf(heredoc[2], i + 1);
      if (end < 0) throw new Error(`unterminated file command for ${heredoc[1]}`);
      out[heredoc[1]] = lines.slice(i + 1, end).join('\n');
      i = end;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

const unescapeData = (s: string) =>
  s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');

export function parseWorkflowCommands(stdout: string): WorkflowCommand[] {
  const out: WorkflowCommand[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!m?.[1]) continue;
    const props: Record<string, string> = {};
    for (const kv of (m[2] ?? '').split(',').filter(Boolean)) {
      const [k, ...v] = kv.split('=');
      if (k) props[k] = unescapeData(v.join('=').replace(/%3A/g, ':').replace(/%2C/g, ','));
    }
    out.push({ command: m[1], props, message: unescapeData(m[3] ?? '') });
  }
  return out;
}

function runStep(
  node: string,
  script: string,
  env: NodeJS.ProcessEnv,
  dir: string,
): Promise<StepRun> {
  const files = {
    output: join(dir, 'output'),
    state: join(dir, 'state'),
    env: join(dir, 'env'),
    path: join(dir, 'path'),
  };
  mkdirSync(dir, { recursive: true });
  for (const f of Object.values(files)) writeFileSync(f, '');
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(node, [script], {
      cwd: ROOT,
      env: {
        ...env,
        GITHUB_OUTPUT: files.output,
        GITHUB_STATE: files.state,
        GITHUB_ENV: files.env,
        GITHUB_PATH: files.path,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      output += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      output += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        exitCode: code ?? 1,
        stdout,
        stderr,
        // A step killed by a signal says so: the runner would show the job as cancelled.
        output: signal ? `${output}\n[the step was ended by ${signal}]` : output,
        commands: parseWorkflowCommands(stdout),
        files: {
          output: readFileSync(files.output, 'utf8'),
          state: readFileSync(files.state, 'utf8'),
          env: readFileSync(files.env, 'utf8'),
          path: readFileSync(files.path, 'utf8'),
        },
        ms: Date.now() - started,
      }),
    );
  });
}

export async function runAction(o: ActionRunOptions): Promise<ActionRun> {
  const id = randomBytes(4).toString('hex');
  const base = join(o.env.tmpDir, `gh-${id}`);
  const dockerConfig = o.dockerConfig ?? join(base, 'docker');
  // As on a runner: the job's temporary directory beside the checkout, not inside it.
  const runnerTemp = join(base, 'runner-temp');
  const workspace = join(base, 'workspace');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(dockerConfig, { recursive: true });
  mkdirSync(runnerTemp, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: [...(o.pathPrepend ?? []), process.env.PATH ?? ''].join(delimiter),
    HOME: process.env.HOME,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: o.env.fixtures.github.repository,
    GITHUB_REPOSITORY_OWNER: o.env.fixtures.github.owner,
    GITHUB_REF: o.env.fixtures.github.ref,
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKSPACE: workspace,
    RUNNER_OS: 'Linux',
    RUNNER_TEMP: runnerTemp,
    DOCKER_CONFIG: dockerConfig,
  };
  if (o.idToken !== false) {
    env.ACTIONS_ID_TOKEN_REQUEST_URL = o.env.issuer.github.requestUrl;
    env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = o.env.issuer.github.requestToken;
  }
  for (const [k, v] of Object.entries({ ...actionDefaults(), ...o.inputs }))
    env[inputEnvName(k)] = v;
  for (const [k, v] of Object.entries(o.extraEnv ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }

  const node = o.node ?? process.execPath;
  const dist = o.dist ?? join(ROOT, 'dist');
  const main = await runStep(node, join(dist, 'main', 'index.js'), env, join(base, 'main'));
  const state = parseFileCommands(main.files.state);
  const added = main.files.path.split('\n').filter(Boolean).reverse();
  const stepEnv: NodeJS.ProcessEnv = {
    ...env,
    ...parseFileCommands(main.files.env),
    PATH: [...added, env.PATH ?? ''].join(delimiter),
  };
  const postEnv = { ...stepEnv };
  for (const [k, v] of Object.entries(state)) postEnv[`STATE_${k}`] = v;
  const steps: StepRun[] = [main];
  const runPost = async (overrides: Record<string, string> = {}) => {
    const dir = join(base, `post-${steps.length}`);
    const step = await runStep(
      node,
      join(dist, 'post', 'index.js'),
      { ...postEnv, ...overrides },
      dir,
    );
    for (const [k, v] of Object.entries(parseFileCommands(step.files.state))) {
      postEnv[`STATE_${k}`] = v;
    }
    steps.push(step);
    return step;
  };
  const post = o.post === false ? undefined : await runPost();
  return {
    main,
    post,
    runPost,
    outputs: parseFileCommands(main.files.output),
    state,
    dockerConfig,
    env,
    stepEnv,
    get everything() {
      return steps.flatMap((s) => [s.output, s.files.output, s.files.env, s.files.path]).join('\n');
    },
  };
}
