// The CLI's command line: commands, flags (one per Action input, plus the CLI's own), defaults,
// and usage errors (exit code 2) for anything else; every login flag is in the help text.
import { describe, expect, it } from 'vitest';
import { HELP, INPUT_FLAGS, parseCommand } from '../../src/cli/args.js';
import { UsageError } from '../../src/cli/usage.js';

function usageError(argv: string[]): string {
  try {
    parseCommand(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

describe('parseCommand', () => {
  it.each([
    [[], 'usage'],
    [['--help'], 'help'],
    [['-h'], 'help'],
    [['help'], 'help'],
    [['--version'], 'version'],
    [['version'], 'version'],
  ])('%j is %s', (argv, name) => {
    expect(parseCommand(argv).name).toBe(name);
  });

  it("parses login flags, with the GitLab variable's default (the session's comes from the CI job)", () => {
    const c = parseCommand([
      'login',
      '--role',
      'ci',
      '--account=bot',
      // A YAML list starts with "-": given as the next argument it reads as a flag (see below).
      '--registries=- secret_path: a/b',
      '--json',
      '--tls-skip-verify',
    ]);
    expect(c).toEqual({
      name: 'login',
      flags: {
        role: 'ci',
        account: 'bot',
        registries: '- secret_path: a/b',
        json: true,
        'tls-skip-verify': true,
        'gitlab-token-var': 'VAULT_ID_TOKEN',
      },
    });
  });

  it('takes every Action input as a flag of the same name', () => {
    const argv = INPUT_FLAGS.flatMap((f) => [`--${f}`, `v-${f}`]);
    const { flags } = parseCommand(['login', ...argv]);
    for (const f of INPUT_FLAGS) expect(flags[f]).toBe(`v-${f}`);
  });

  it('logout takes only the session flags', () => {
    expect(parseCommand(['logout', '--state-file', '/run/x.json'])).toEqual({
      name: 'logout',
      flags: { 'state-file': '/run/x.json' },
    });
    expect(usageError(['logout', '--role', 'ci'])).toMatch(/--role/);
  });

  it.each([
    [['logon'], 'Unknown command "logon"; expected login or logout.'],
    [['login', '--rol', 'ci'], "Unknown option '--rol'"],
    [['login', 'ci'], "Unexpected argument 'ci'"],
    [['login', '--role'], "Option '--role <value>' argument missing"],
    [['login', '--json=yes'], "Option '--json' does not take an argument"],
    [['login', '--registries', '- secret_path: a/b'], "use '--registries=-XYZ'"],
  ])('refuses %j as a usage error', (argv, said) => {
    expect(usageError(argv)).toContain(said);
  });

  it('lists every login flag in the login help, and no flag the parser lacks', () => {
    const { flags } = parseCommand(['login']);
    const parsed = new Set([...INPUT_FLAGS, ...Object.keys(flags)]);
    const shown = new Set([...HELP.login.matchAll(/^ {2}--([a-z-]+)/gm)].map((m) => m[1]));
    for (const f of INPUT_FLAGS) expect(shown, `--${f} in the help`).toContain(f);
    for (const f of shown) {
      const c = parseCommand([
        'login',
        `--${f}`,
        ...(['json', 'tls-skip-verify', 'credential-helper'].includes(f ?? '') ? [] : ['x']),
      ]);
      expect(c.name, `--${f} parses`).toBe('login');
    }
    expect(parsed.size).toBeGreaterThan(INPUT_FLAGS.length);
  });
});
