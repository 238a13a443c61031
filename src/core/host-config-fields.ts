// The building blocks of the configuration file's schemas (host-config-schema.ts). A field parses
// one value at a key path, or refuses it with the sentence the file's user reads after the key's
// name (`Config file F: key "vault.timeout": must be ...`). A section is a strict mapping of
// fields. (Why not zod: docs/design-notes.md.)
import { DURATION_FORMS, parseDuration } from './duration.js';
import { ConfigError } from './errors.js';

/** A value refused at `path` (keys from the top of the file). */
export class Refusal extends Error {
  constructor(
    readonly path: string[],
    readonly detail: string,
  ) {
    super(`${path.join('.')}: ${detail}`);
    this.name = 'Refusal';
  }
}

export type Field<T> = (value: unknown, at: string[]) => T;
type Shape = Record<string, Field<unknown>>;
type Out<S extends Shape, K extends keyof S> = ReturnType<S[K]>;
/** A section's settings: a key whose field may give undefined is optional. */
export type Parsed<S extends Shape> = {
  [K in keyof S as undefined extends Out<S, K> ? K : never]?: Out<S, K>;
} & { [K in keyof S as undefined extends Out<S, K> ? never : K]: Out<S, K> };

const got = (v: unknown) => `got ${JSON.stringify(v)}`;

/** A mapping with exactly these keys; each field says whether its key may be absent. */
export function section<S extends Shape>(shape: S): Field<Parsed<S>> {
  const keys = Object.keys(shape);
  const expected = keys.length === 1 ? keys[0] : `one of ${keys.join(', ')}`;
  return (v, at) => {
    const doc = v ?? {};
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new Refusal(at, 'must be a mapping.');
    for (const k of Object.keys(doc))
      if (!keys.includes(k))
        throw new Refusal([...at, k], `is not a known key; expected ${expected}.`);
    const entries = keys.map((k) => [
      k,
      shape[k]?.((doc as Record<string, unknown>)[k], [...at, k]),
    ]);
    return Object.fromEntries(entries) as Parsed<S>;
  };
}

/** Absent is undefined. */
export const optional =
  <T>(field: Field<T>): Field<T | undefined> =>
  (v, at) =>
    v === undefined ? undefined : field(v, at);

/** Absent is `fallback`. */
export const withDefault =
  <T>(field: Field<T>, fallback: T): Field<T> =>
  (v, at) =>
    v === undefined ? fallback : field(v, at);

/** A rule across a section's keys, run after each key was parsed. */
export const checked =
  <T>(field: Field<T>, rule: (parsed: T, at: string[]) => void): Field<T> =>
  (v, at) => {
    const out = field(v, at);
    rule(out, at);
    return out;
  };

/** A value `parse` turns into its setting, or refuses (undefined) with `refusal(value)`. */
export function value<T>(
  parse: (v: unknown) => T | undefined,
  refusal: (v: unknown) => string,
): Field<T> {
  return (v, at) => {
    const out = parse(v);
    if (out === undefined) throw new Refusal(at, refusal(v));
    return out;
  };
}

/** A scalar, as text; `required` is the message when the key is absent. */
export function text(required?: string): Field<string> {
  return value(
    (v) =>
      typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
        ? String(v).trim()
        : undefined,
    (v) => (v === undefined && required ? required : 'must be a string, number or boolean.'),
  );
}

export function flag(): Field<boolean> {
  return value(
    (v) => (v === true || v === 'true' ? true : v === false || v === 'false' ? false : undefined),
    (v) => `must be true or false; ${got(v)}.`,
  );
}

/** Whole seconds (duration.ts), at most `max`. */
export function duration(max?: { seconds: number; as: string }): Field<number> {
  return value(
    (v) => {
      const s = parseDuration(v);
      return s !== undefined && (!max || s <= max.seconds) ? s : undefined;
    },
    (v) => `must be ${DURATION_FORMS}${max ? `, at most ${max.as}` : ''}; ${got(v)}.`,
  );
}

export function oneOf<const T extends string>(choices: readonly T[], explain?: string): Field<T> {
  return value(
    (v) => choices.find((c) => c === v),
    (v) => `must be ${explain ?? `one of ${choices.join(', ')}`}; ${got(v)}.`,
  );
}

export function absolutePath(): Field<string> {
  return value(
    (v) => (typeof v === 'string' && v.startsWith('/') ? v : undefined),
    (v) => `must be an absolute path; ${got(v)}.`,
  );
}

/** Text a shared validator accepts (pathLike, segment): its refusal is the message. */
export function checkedText(
  check: (name: string, v: string) => string,
  required?: string,
): Field<string> {
  return (v, at) => {
    if (typeof v !== 'string' && typeof v !== 'number')
      throw new Refusal(at, v === undefined && required ? required : 'must be a string.');
    try {
      return check('', String(v).trim());
    } catch (err) {
      if (err instanceof ConfigError) throw new Refusal(at, err.detail);
      throw err;
    }
  };
}
