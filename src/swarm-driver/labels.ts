// A secret's labels -> what the driver asks Vault and what the task receives. Labels under the
// `vault.` prefix belong to the driver (an unknown one is an error); any other label is the
// operator's own and ignored.
import type { FieldMap } from '../core/credential.js';
import { ConfigError } from '../core/errors.js';
import { type Source, source } from '../core/registry-entries.js';
import { fieldName, pathLike, registry as registryHost } from '../core/validators.js';

export const PREFIX = 'vault.';

/** Every label the driver reads, with the accepted form (shown in errors and the docs). */
export const LABELS = {
  'vault.path': 'a Vault path such as secret/data/app or dockerhub/token/<user>/read',
  'vault.method': 'read or write (default: write under <engine_mount>/token/, else read)',
  'vault.body': 'a JSON object sent with a write, such as {"ttl":"1h"}',
  'vault.field': 'the field of the answer the task receives, such as password',
  'vault.registry': 'a registry host such as ghcr.io or docker.io: the task receives a config.json',
  'vault.username_field': 'with vault.registry: the field holding the user name (default username)',
  'vault.password_field':
    'with vault.registry: the field holding the secret (default: token, password, secret, access_token)',
  'vault.wrap': 'a TTL such as 90s, 5m or 1h: the task receives a single-use wrapping token',
} as const;

type Label = keyof typeof LABELS;

/** What the task receives. */
export type Delivery =
  | { kind: 'field'; field: string }
  | { kind: 'docker-config'; registry: string; fields: FieldMap }
  | { kind: 'wrapped'; ttl: string };

export interface SecretPlan {
  source: Source;
  delivery: Delivery;
}

const WHAT =
  'vault.field=<name> (that value), vault.registry=<host> (a docker config.json) or vault.wrap=<ttl> (a single-use wrapping token)';

/** Errors name the label, as the Action's name its inputs. */
const bad = (label: string, detail: string) => new ConfigError(label, detail, 'Secret label');

function wrapTtl(value: string): string {
  if (!/^[1-9]\d{0,6}[smh]?$/.test(value))
    throw bad(
      'vault.wrap',
      `must be a TTL such as 90s, 5m or 1h (a whole number of seconds, minutes or hours); got "${value}".`,
    );
  return value;
}

/**
 * `engineMount` decides the default method (the Docker Hub engine issues only on write); `label`
 * is the Docker Hub token label sent by default with such a write.
 */
export function planFromLabels(
  labels: Record<string, string> | undefined,
  defaults: { engineMount: string; label: string },
): SecretPlan {
  const own = Object.entries(labels ?? {}).filter(([k]) => k.startsWith(PREFIX));
  for (const [k] of own)
    if (!(k in LABELS))
      throw bad(
        k,
        `is not a label this driver knows; expected one of ${Object.keys(LABELS).join(', ')}.`,
      );
  const get = (k: Label) => {
    const v = own.find(([name]) => name === k)?.[1]?.trim();
    return v ? v : undefined;
  };
  try {
    const path = get('vault.path');
    if (!path)
      throw bad('vault.path', `is required: ${LABELS['vault.path']}. Then choose ${WHAT}.`);
    pathLike('vault.path', path);
    const names = { path: 'vault.path', method: 'vault.method', body: 'vault.body' };
    const src = source(
      names,
      path,
      get('vault.method'),
      get('vault.body'),
      defaults.engineMount,
      defaults.label,
    );
    const field = get('vault.field');
    const registry = get('vault.registry');
    const wrap = get('vault.wrap');
    const userField = get('vault.username_field');
    const passField = get('vault.password_field');
    if ((userField || passField) && !registry)
      throw bad(
        userField ? 'vault.username_field' : 'vault.password_field',
        'is only used with vault.registry (to build a config.json); use vault.field for one value.',
      );
    const chosen = [field && 'vault.field', registry && 'vault.registry', wrap && 'vault.wrap'];
    const set = chosen.filter((x): x is string => !!x);
    if (set.length === 0) throw bad('vault.field', `is missing: set one of ${WHAT}.`);
    if (wrap && set.length > 1)
      throw bad(
        'vault.wrap',
        `cannot be combined with ${set.filter((s) => s !== 'vault.wrap').join(' and ')}: Vault wraps its whole answer, which the driver never sees, so the task unwraps it and picks the field itself. Remove one of them.`,
      );
    if (set.length > 1)
      throw bad('vault.field', 'and vault.registry are exclusive: one value, or a config.json.');
    if (wrap) return { source: src, delivery: { kind: 'wrapped', ttl: wrapTtl(wrap) } };
    if (registry)
      return {
        source: src,
        delivery: {
          kind: 'docker-config',
          registry: registryHost(registry, 'vault.registry'),
          fields: {
            username: fieldName('vault.username_field', userField),
            password: fieldName('vault.password_field', passField),
          },
        },
      };
    return {
      source: src,
      delivery: { kind: 'field', field: fieldName('vault.field', field) ?? '' },
    };
  } catch (err) {
    // The shared validators say "Input"; here the input is a label.
    if (err instanceof ConfigError && !err.message.startsWith('Secret label'))
      throw bad(err.input, err.detail);
    throw err;
  }
}
