// The orb's JSON reader and writer (json.sh), run through bash as the packed orb ships them and
// checked against JSON.parse / JSON.stringify: escapes, unicode, nesting, numbers, malformed input.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadPackedOrb } from '../harness/circleci-runner.js';

const step = loadPackedOrb().commands.login?.steps[0]?.run as {
  environment: Record<string, string>;
};
const SCRIPT_JSON = step.environment.SCRIPT_JSON as string;

// Prints what vdl_json_parse made of $DOC: NUL-separated records `T path type value`,
// `N path count`, `K index:path key`, or `E error`. NUL cannot occur in a shell string.
const DUMP = `
eval "$SCRIPT_JSON"
if vdl_json_parse "$DOC"; then
  for k in "\${!VDL_JT[@]}"; do printf 'T\\0%s\\0%s\\0%s\\0' "$k" "\${VDL_JT[$k]}" "\${VDL_JV[$k]}"; done
  for k in "\${!VDL_JN[@]}"; do printf 'N\\0%s\\0%s\\0' "$k" "\${VDL_JN[$k]}"; done
  for k in "\${!VDL_JK[@]}"; do printf 'K\\0%s\\0%s\\0' "$k" "\${VDL_JK[$k]}"; done
else
  printf 'E\\0%s\\0' "$VDL_JSON_ERROR"
  exit 3
fi
`;

type Leaf = [type: string, value: string];
interface Parsed {
  error?: string;
  status: number | null;
  t: Map<string, Leaf>;
  n: Map<string, number>;
  k: Map<string, string>;
}

function bash(script: string, env: Record<string, string> = {}) {
  // A hang guard, not a speed check: every input must end in a result or an error.
  const r = spawnSync('bash', ['-c', script], {
    env: { PATH: process.env.PATH ?? '', LANG: 'C.UTF-8', SCRIPT_JSON, ...env },
    encoding: 'utf8',
    // stdin not a socket: bash reads ~/.bashrc when its stdin looks like a network connection.
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
  if (r.error) throw r.error;
  return r;
}

function parse(doc: string): Parsed {
  const r = bash(DUMP, { DOC: doc });
  const f = r.stdout.split('\0');
  const out: Parsed = { status: r.status, t: new Map(), n: new Map(), k: new Map() };
  for (let i = 0; i < f.length - 1; ) {
    const kind = f[i++];
    if (kind === 'T') out.t.set(f[i++] as string, [f[i++] as string, f[i++] as string]);
    else if (kind === 'N') out.n.set(f[i++] as string, Number(f[i++]));
    else if (kind === 'K') out.k.set(f[i++] as string, f[i++] as string);
    else out.error = f[i++];
  }
  expect(r.stderr).toBe('');
  return out;
}

const seg = (key: string) =>
  key === '' ? '\\0' : key.replace(/\\/g, '\\\\').replace(/\./g, '\\.').replace(/\[/g, '\\[');

/** What the reader must hold for a value, computed from JSON.parse. */
function expected(v: unknown, path = '.', out: Parsed = emptyParsed()): Parsed {
  const prefix = path === '.' ? '' : path;
  if (Array.isArray(v)) {
    out.t.set(path, ['array', JSON.stringify(v)]);
    out.n.set(path, v.length);
    v.forEach((x, i) => {
      expected(x, `${prefix}[${i}]`, out);
    });
  } else if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    out.t.set(path, ['object', JSON.stringify(v)]);
    out.n.set(path, keys.length);
    keys.forEach((key, i) => {
      out.k.set(`${i}:${path}`, key);
      expected((v as Record<string, unknown>)[key], `${prefix}.${seg(key)}`, out);
    });
  } else if (typeof v === 'string') out.t.set(path, ['string', v]);
  else if (typeof v === 'number') out.t.set(path, ['number', String(v)]);
  else if (typeof v === 'boolean') out.t.set(path, ['boolean', String(v)]);
  else out.t.set(path, ['null', '']);
  return out;
}

function emptyParsed(): Parsed {
  return { status: 0, t: new Map(), n: new Map(), k: new Map() };
}

/** Compares a parse with JSON.parse's reading; containers by their meaning, not their text. */
function expectSameAs(got: Parsed, doc: string) {
  expect(got.error).toBeUndefined();
  const want = expected(JSON.parse(doc));
  const meaning = (m: Map<string, Leaf>) =>
    [...m].map(([p, [type, v]]) => [
      p,
      type,
      type === 'object' || type === 'array' || type === 'number' ? JSON.parse(v) : v,
    ]);
  expect(meaning(got.t).sort()).toEqual(meaning(want.t).sort());
  expect([...got.n].sort()).toEqual([...want.n].sort());
  expect([...got.k].sort()).toEqual([...want.k].sort());
}

describe('orb JSON reader', () => {
  it('reads a Vault answer once into paths: strings, numbers, booleans, null, nesting', () => {
    const doc = JSON.stringify({
      request_id: 'r-1',
      lease_id: 'dockerhub/token/acme/read/AbC',
      renewable: false,
      lease_duration: 3600,
      data: { data: { username: 'bot', password: 'p@ss' }, metadata: { version: 3 } },
      warnings: null,
      auth: { client_token: 'hvs.x', policies: ['default', 'dockerhub'] },
    });
    const r = parse(`${doc}\n`);
    expect(r.t.get('.auth.client_token')).toEqual(['string', 'hvs.x']);
    expect(r.t.get('.lease_duration')).toEqual(['number', '3600']);
    expect(r.t.get('.renewable')).toEqual(['boolean', 'false']);
    expect(r.t.get('.warnings')).toEqual(['null', '']);
    expect(r.t.get('.data.data.password')).toEqual(['string', 'p@ss']);
    expect(r.t.get('.auth.policies[1]')).toEqual(['string', 'dockerhub']);
    expect(r.t.get('.data.metadata')).toEqual(['object', '{"version":3}']);
    expect(r.n.get('.auth.policies')).toBe(2);
    expect(r.k.get('0:.data.data')).toBe('username');
    expectSameAs(r, doc);
  });

  it('decodes every string escape', () => {
    const doc = '["\\"", "\\\\", "\\/", "\\b\\f\\n\\r\\t", "a\\u0001b\\u001fc", "\\u007f"]';
    const r = parse(doc);
    expect([0, 1, 2, 3, 4, 5].map((i) => r.t.get(`[${i}]`)?.[1])).toEqual(JSON.parse(doc));
    expectSameAs(r, doc);
  });

  it('decodes \\uXXXX to UTF-8, surrogate pairs included, and keeps raw UTF-8', () => {
    const doc = '["\\u00e9\\u20AC\\ud83d\\ude00", "é€😀", "x\\uD834\\uDD1Ey", "\\u0041\\u0000"]';
    // \u0000 cannot live in a shell string: an error, not a silent truncation.
    expect(parse(doc).error).toMatch(/\\u0000/);
    const ok = doc.replace(', "\\u0041\\u0000"', '');
    const r = parse(ok);
    expect(r.t.get('[0]')).toEqual(['string', 'é€😀']);
    expect(r.t.get('[1]')).toEqual(['string', 'é€😀']);
    expect(r.t.get('[2]')).toEqual(['string', 'x𝄞y']);
    expectSameAs(r, ok);
  });

  it('turns a lone surrogate into U+FFFD, as jq does', () => {
    const r = parse('["a\\ud800b", "\\udc00", "\\ud800\\u0041"]');
    expect(
      [...r.t]
        .filter(([p]) => p !== '.')
        .map(([, [, v]]) => v)
        .sort(),
    ).toEqual(['a\uFFFDb', '\uFFFD', '\uFFFDA'].sort());
  });

  it('reads nested objects and arrays, empty ones too, with compact JSON for containers', () => {
    const doc =
      ' { "a" : [ 1 , [ ] , { } , [ 2 , { "b" : [ null , true ] } ] ] ,\n\t"c":{"d":{"e":{}}} } ';
    const r = parse(doc);
    expect(r.t.get('.a[3][1].b[1]')).toEqual(['boolean', 'true']);
    expect(r.t.get('.a')).toEqual(['array', '[1,[],{},[2,{"b":[null,true]}]]']);
    expect(r.t.get('.')?.[1]).toBe('{"a":[1,[],{},[2,{"b":[null,true]}]],"c":{"d":{"e":{}}}}');
    expect(r.n.get('.a[1]')).toBe(0);
    expect(r.n.get('.c.d.e')).toBe(0);
    expectSameAs(r, doc);
  });

  it('keeps numbers as written', () => {
    const doc = '[0, -0, 12, -3.25, 1e3, 1E+3, 2.5e-7, 123456789012345678901234567890]';
    const r = parse(doc);
    expect([...Array(8).keys()].map((i) => r.t.get(`[${i}]`)?.[1])).toEqual(
      doc.slice(1, -1).split(', '),
    );
    expect(new Set([...r.t].filter(([p]) => p !== '.').map(([, [t]]) => t))).toEqual(
      new Set(['number']),
    );
  });

  it('escapes keys in paths, so odd keys never collide, and the last of a repeated key wins', () => {
    const doc = '{"a.b":1,"a":{"b":2},"":3,"x[0]":4,"x":[5],"\\\\":6,"k":{"gone":1},"k":7}';
    const r = parse(doc);
    expect(r.t.get('.a\\.b')).toEqual(['number', '1']);
    expect(r.t.get('.a.b')).toEqual(['number', '2']);
    expect(r.t.get('.\\0')).toEqual(['number', '3']);
    expect(r.t.get('.x\\[0]')).toEqual(['number', '4']);
    expect(r.t.get('.x[0]')).toEqual(['number', '5']);
    expect(r.t.get('.\\\\')).toEqual(['number', '6']);
    expect(r.t.get('.k')).toEqual(['number', '7']);
    expect(r.t.has('.k.gone')).toBe(false);
    expect(r.n.has('.k')).toBe(false);
    // jq's keys_unsorted: first place, last value.
    expect([...Array(7).keys()].map((i) => r.k.get(`${i}:.`))).toEqual([
      'a.b',
      'a',
      '',
      'x[0]',
      'x',
      '\\',
      'k',
    ]);
    expect(r.n.get('.')).toBe(7);
  });

  it('reads a top-level scalar', () => {
    expect(parse(' "s" ').t.get('.')).toEqual(['string', 's']);
    expect(parse('null').t.get('.')).toEqual(['null', '']);
    expect(parse('-1.5').t.get('.')).toEqual(['number', '-1.5']);
  });

  it.each([
    ['empty', ''],
    ['blank', ' \n\t'],
    ['unclosed object', '{"secret":"SECRET-1"'],
    ['unclosed array', '["SECRET-1"'],
    ['unclosed string', '{"a":"SECRET-1'],
    ['missing colon', '{"a" "SECRET-1"}'],
    ['missing value', '{"a":}'],
    ['trailing comma in an object', '{"a":"SECRET-1",}'],
    ['trailing comma in an array', '["SECRET-1",]'],
    ['missing comma', '["SECRET-1" "x"]'],
    ['mismatched bracket', '["SECRET-1"}'],
    ['a key that is not a string', '{1:"SECRET-1"}'],
    ['single quotes', "{'a':'SECRET-1'}"],
    ['a raw newline in a string', '["SECRET-1\nx"]'],
    ['a raw tab in a string', '["SECRET-1\tx"]'],
    ['a bad escape', '["SECRET-1\\x"]'],
    ['a short \\u escape', '["SECRET-1\\u12"]'],
    ['a leading zero', '[01]'],
    ['a bare dot number', '[.5]'],
    ['a trailing dot', '[1.]'],
    ['a bare exponent', '[1e]'],
    ['a plus sign', '[+1]'],
    ['NaN', '[NaN]'],
    ['a truncated literal', '[tru]'],
    ['text after the value', '{"a":"SECRET-1"} x'],
    ['two values', '"SECRET-1" "x"'],
    ['a comment', '{"a":1 /* SECRET-1 */}'],
    ['a lone closing bracket', ']'],
  ])('fails clearly on %s, never quoting the text', (_, doc) => {
    const r = parse(doc);
    expect(r.status).toBe(3);
    expect(r.error).toMatch(/ends early|unexpected|expected|unterminated|bad|text after/);
    expect(r.error).not.toContain('SECRET');
  });

  it('finishes on deep nesting and long strings, and on deep garbage', () => {
    const deep = `${'['.repeat(500)}"x"${']'.repeat(500)}`;
    expect(parse(deep).t.get(`${'[0]'.repeat(500)}`)).toEqual(['string', 'x']);
    expect(parse('['.repeat(500)).error).toMatch(/ends early/);
    const long = `"${'ab\\n'.repeat(3000)}${'é'.repeat(3000)}"`;
    expect(parse(long).t.get('.')).toEqual(['string', JSON.parse(long)]);
  });

  it('agrees with JSON.parse on generated documents', () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)] as T;
    const chars = [
      'a',
      '.',
      '[',
      ']',
      '\\',
      '"',
      '\n',
      '\t',
      '\u0001',
      '\u001f',
      'é',
      '😀',
      '\u2028',
      '/',
      ' ',
    ];
    const str = () => Array.from({ length: Math.floor(rnd() * 6) }, () => pick(chars)).join('');
    const value = (d: number): unknown => {
      const r = rnd();
      if (d > 3 || r < 0.4)
        return pick([str(), Math.floor(rnd() * 2e6) - 1e6, rnd() * 1e5, true, false, null]);
      if (r < 0.7)
        return Object.fromEntries(
          Array.from({ length: Math.floor(rnd() * 4) }, () => [str(), value(d + 1)]),
        );
      return Array.from({ length: Math.floor(rnd() * 4) }, () => value(d + 1));
    };
    for (let i = 0; i < 40; i++) {
      const doc = JSON.stringify(value(0), null, pick([undefined, 1, '\t']));
      expectSameAs(parse(doc), doc);
    }
  });
});

describe('orb JSON writer', () => {
  const NASTY = `quote " backslash \\ slash / newline \n cr \r tab \t bell \u0007 esc \u001b del \u007f é 😀 \u2028 & $HOME \`x\` '`;

  it('writes any string as a JSON string that JSON.parse reads back exactly', () => {
    const all = Array.from({ length: 127 }, (_, i) => String.fromCharCode(i + 1)).join('');
    const r = bash(
      'eval "$SCRIPT_JSON"; vdl_json_str a "$V1"; vdl_json_str b "$V2"; vdl_json_str c ""; printf "%s\\n" "$a" "$b" "$c"',
      {
        V1: NASTY,
        V2: all,
      },
    );
    const [a, b, c] = r.stdout.split('\n');
    expect(JSON.parse(a as string)).toBe(NASTY);
    expect(JSON.parse(b as string)).toBe(all);
    expect(c).toBe('""');
    // Only the escapes JSON requires: control characters, quote and backslash.
    expect(a).toContain('\\u0007');
    expect(a).toContain('\\n');
    expect(a).not.toContain('\n');
  });

  it('builds objects that round-trip through the reader, values with quotes, backslashes and newlines', () => {
    const r = bash(
      `eval "$SCRIPT_JSON"
      vdl_json_obj body role R jwt J 'odd "key"' R
      printf '%s\\n' "$body"
      vdl_json_parse "$body" || exit 3
      printf '%s\\0%s\\0%s' "\${VDL_JV[.role]}" "\${VDL_JV[.jwt]}" "\${VDL_JT[.]}"`,
      { R: 'build "main"\\\n', J: NASTY },
    );
    expect(r.status).toBe(0);
    const [json, rest] = [
      r.stdout.slice(0, r.stdout.indexOf('\n')),
      r.stdout.slice(r.stdout.indexOf('\n') + 1),
    ];
    expect(JSON.parse(json)).toEqual({
      role: 'build "main"\\\n',
      jwt: NASTY,
      'odd "key"': 'build "main"\\\n',
    });
    expect(rest.split('\0')).toEqual(['build "main"\\\n', NASTY, 'object']);
  });
});

describe('orb Vault errors', () => {
  it('joins errors with "; ", squeezes whitespace, and is empty when there are none', () => {
    const run = (body: string) =>
      bash(
        'eval "$SCRIPT_JSON"; f=$(mktemp); printf "%s" "$BODY" >"$f"; vdl_json_errors e "$f"; rm -f "$f"; printf "[%s]" "$e"',
        {
          BODY: body,
        },
      ).stdout;
    expect(
      run('{"errors":["permission denied","1 error occurred:\\n\\t* bad  thing\\n\\n"]}'),
    ).toBe('[permission denied; 1 error occurred: * bad thing ]');
    expect(run('{"errors":[]}')).toBe('[]');
    expect(run('{}')).toBe('[]');
    expect(run('<html>bad gateway</html>')).toBe('[]');
    expect(run('')).toBe('[]');
  });
});
