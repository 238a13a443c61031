// The building blocks of the configuration file's schemas (host-config-schema.ts): a section is a
// strict mapping, a value is parsed by one function and refused with the message the file's user
// reads after the key's name (`Config file F: key "vault.timeout": must be ...`).
import * as z from 'zod/mini';
import { DURATION_FORMS, parseDuration } from './duration.js';
import { ConfigError } from './errors.js';

const got = (v: unknown) => `got ${JSON.stringify(v)}`;

/** A value `parse` turns into its setting, or refuses (undefined) with `refusal(value)`. */
export function value<T>(parse: (v: unknown) => T | undefined, refusal: (v: unknown) => string) {
  return z.transform((v: unknown, ctx) => {
    const out = parse(v);
    if (out !== undefined) return out;
    ctx.issues.push({ code: 'custom', message: refusal(v), input: v });
    return z.NEVER;
  });
}

/** A mapping with exactly these keys (each optional unless its schema says otherwise). */
export function section<S extends z.core.$ZodLooseShape>(shape: S) {
  const keys = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `is not a known key; expected ${keys.length === 1 ? keys[0] : `one of ${keys.join(', ')}`}.`
        : 'must be a mapping.',
  });
}

/** A scalar, as text; `required` is the message when the key is absent. */
export function text(required?: string) {
  return value(
    (v) =>
      typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
        ? String(v).trim()
        : undefined,
    (v) => (v === undefined && required ? required : 'must be a string, number or boolean.'),
  );
}

export function flag() {
  return value(
    (v) => (v === true || v === 'true' ? true : v === false || v === 'false' ? false : undefined),
    (v) => `must be true or false; ${got(v)}.`,
  );
}

/** Whole seconds (duration.ts), at most `max`. */
export function duration(max?: { seconds: number; as: string }) {
  return value(
    (v) => {
      const s = parseDuration(v);
      return s !== undefined && (!max || s <= max.seconds) ? s : undefined;
    },
    (v) => `must be ${DURATION_FORMS}${max ? `, at most ${max.as}` : ''}; ${got(v)}.`,
  );
}

export function oneOf<const T extends string>(choices: readonly T[], explain?: string) {
  return value(
    (v) => choices.find((c) => c === v),
    (v) => `must be ${explain ?? `one of ${choices.join(', ')}`}; ${got(v)}.`,
  );
}

export function absolutePath() {
  return value(
    (v) => (typeof v === 'string' && v.startsWith('/') ? v : undefined),
    (v) => `must be an absolute path; ${got(v)}.`,
  );
}

/** Text a shared validator accepts (pathLike, segment): its refusal is the message. */
export function checkedText(check: (name: string, v: string) => string, required?: string) {
  return z.transform((v: unknown, ctx) => {
    if (typeof v !== 'string' && typeof v !== 'number') {
      const message = v === undefined && required ? required : 'must be a string.';
      ctx.issues.push({ code: 'custom', message, input: v });
      return z.NEVER;
    }
    try {
      return check('', String(v).trim());
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      ctx.issues.push({ code: 'custom', message: err.detail, input: v });
      return z.NEVER;
    }
  });
}
