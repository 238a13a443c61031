// The kubelet's CredentialProviderConfig (kubelet.config.k8s.io/v1), read and validated as the
// kubelet does at start (pkg/credentialprovider/plugin/config.go): strict decoding (an unknown
// field is an error), then validateCredentialProviderConfig's rules. Written from its behaviour.
import { parse } from 'yaml';
import { parseGoDuration } from './go-duration.js';
import { parseSchemeless } from './keyring.js';

export const CONFIG_VERSIONS = [
  'kubelet.config.k8s.io/v1',
  'kubelet.config.k8s.io/v1beta1',
  'kubelet.config.k8s.io/v1alpha1',
];
export const PLUGIN_VERSIONS = [
  'credentialprovider.kubelet.k8s.io/v1',
  'credentialprovider.kubelet.k8s.io/v1beta1',
  'credentialprovider.kubelet.k8s.io/v1alpha1',
];

export interface TokenAttributes {
  serviceAccountTokenAudience: string;
  cacheType: 'Token' | 'ServiceAccount';
  requireServiceAccount: boolean;
  requiredServiceAccountAnnotationKeys: string[];
  optionalServiceAccountAnnotationKeys: string[];
}

export interface ProviderConfig {
  name: string;
  matchImages: string[];
  /** Milliseconds. */
  defaultCacheDuration: number;
  apiVersion: string;
  args: string[];
  env: { name: string; value: string }[];
  tokenAttributes?: TokenAttributes;
}

const FIELDS = {
  top: ['apiVersion', 'kind', 'providers'],
  provider: [
    'name',
    'matchImages',
    'defaultCacheDuration',
    'apiVersion',
    'args',
    'env',
    'tokenAttributes',
  ],
  env: ['name', 'value'],
  tokenAttributes: [
    'serviceAccountTokenAudience',
    'cacheType',
    'requireServiceAccount',
    'requiredServiceAccountAnnotationKeys',
    'optionalServiceAccountAnnotationKeys',
  ],
};

export class KubeletConfigError extends Error {}

function strict(obj: unknown, fields: string[], at: string): Record<string, unknown> {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj))
    throw new KubeletConfigError(`${at}: expected an object`);
  for (const k of Object.keys(obj))
    if (!fields.includes(k))
      throw new KubeletConfigError(`strict decoding error: unknown field "${at}.${k}"`);
  return obj as Record<string, unknown>;
}

const strings = (v: unknown, at: string): string[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new KubeletConfigError(`${at}: expected a list of strings`);
  return v as string[];
};

/** An annotation key as IsQualifiedName checks it (lower-cased first, as the kubelet does). */
const QUALIFIED =
  /^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$/;

export function parseKubeletConfig(doc: unknown): ProviderConfig[] {
  const d = typeof doc === 'string' ? (parse(doc) as unknown) : doc;
  const top = strict(d, FIELDS.top, '');
  if (top.kind !== 'CredentialProviderConfig')
    throw new KubeletConfigError(`failed to decode ${JSON.stringify(top.kind)} (wrong Kind)`);
  if (typeof top.apiVersion !== 'string' || !CONFIG_VERSIONS.includes(top.apiVersion))
    throw new KubeletConfigError(
      `no kind "CredentialProviderConfig" is registered for version ${JSON.stringify(top.apiVersion)}`,
    );
  const providers = Array.isArray(top.providers) ? top.providers : [];
  const errs: string[] = [];
  if (providers.length === 0)
    errs.push('providers: Required value: at least 1 item in plugins is required');
  const seen = new Set<string>();
  const out = providers.map((raw, i): ProviderConfig => {
    const p = strict(raw, FIELDS.provider, `providers[${i}]`);
    const name = typeof p.name === 'string' ? p.name : '';
    if (name.includes('/')) errs.push(`providers.name: provider name cannot contain '/'`);
    if (name.includes(' ')) errs.push('providers.name: provider name cannot contain spaces');
    if (name === '.' || name === '..')
      errs.push(`providers.name: provider name cannot be '${name}'`);
    if (seen.has(name)) errs.push(`providers.name: Duplicate value: ${JSON.stringify(name)}`);
    seen.add(name);
    const apiVersion = typeof p.apiVersion === 'string' ? p.apiVersion : '';
    if (!apiVersion) errs.push('providers.apiVersion: Required value');
    else if (!PLUGIN_VERSIONS.includes(apiVersion))
      errs.push(`providers.apiVersion: Unsupported value: ${JSON.stringify(apiVersion)}`);
    const matchImages = strings(p.matchImages, `providers[${i}].matchImages`);
    if (matchImages.length === 0)
      errs.push(
        'providers.matchImages: Required value: at least 1 item in matchImages is required',
      );
    for (const m of matchImages)
      if (!parseSchemeless(m))
        errs.push(`providers.matchImages: Invalid value: ${JSON.stringify(m)}`);
    let defaultCacheDuration = 0;
    if (p.defaultCacheDuration === undefined || p.defaultCacheDuration === null)
      errs.push('providers.defaultCacheDuration: Required value');
    else {
      if (typeof p.defaultCacheDuration !== 'string')
        throw new KubeletConfigError('providers.defaultCacheDuration: expected a duration string');
      defaultCacheDuration = parseGoDuration(p.defaultCacheDuration);
      if (defaultCacheDuration < 0)
        errs.push(
          'providers.defaultCacheDuration: Invalid value: must be greater than or equal to 0',
        );
    }
    const env = (Array.isArray(p.env) ? p.env : []).map((e, j) => {
      const v = strict(e, FIELDS.env, `providers[${i}].env[${j}]`);
      return { name: String(v.name ?? ''), value: String(v.value ?? '') };
    });
    let tokenAttributes: TokenAttributes | undefined;
    if (p.tokenAttributes !== undefined && p.tokenAttributes !== null) {
      const t = strict(
        p.tokenAttributes,
        FIELDS.tokenAttributes,
        `providers[${i}].tokenAttributes`,
      );
      const audience =
        typeof t.serviceAccountTokenAudience === 'string' ? t.serviceAccountTokenAudience : '';
      if (!audience)
        errs.push('providers.tokenAttributes.serviceAccountTokenAudience: Required value');
      if (typeof t.requireServiceAccount !== 'boolean')
        errs.push('providers.tokenAttributes.requireServiceAccount: Required value');
      if (apiVersion !== PLUGIN_VERSIONS[0])
        errs.push(
          `providers.tokenAttributes: Forbidden: tokenAttributes is only supported for ${PLUGIN_VERSIONS[0]} API version`,
        );
      const required = strings(
        t.requiredServiceAccountAnnotationKeys,
        'requiredServiceAccountAnnotationKeys',
      );
      const optional = strings(
        t.optionalServiceAccountAnnotationKeys,
        'optionalServiceAccountAnnotationKeys',
      );
      if (t.requireServiceAccount === false && required.length > 0)
        errs.push(
          'providers.tokenAttributes.requiredServiceAccountAnnotationKeys: Forbidden: requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set',
        );
      for (const [what, keys] of [
        ['required', required],
        ['optional', optional],
      ] as const) {
        const s = new Set<string>();
        for (const k of keys) {
          if (!QUALIFIED.test(k.toLowerCase()) || k.length > 253)
            errs.push(
              `providers.tokenAttributes.${what}ServiceAccountAnnotationKeys: Invalid value: ${JSON.stringify(k)}`,
            );
          if (s.has(k))
            errs.push(
              `providers.tokenAttributes.${what}ServiceAccountAnnotationKeys: Duplicate value: ${JSON.stringify(k)}`,
            );
          s.add(k);
        }
      }
      if (required.some((k) => optional.includes(k)))
        errs.push(
          'providers.tokenAttributes: Invalid value: annotation keys cannot be both required and optional',
        );
      if (!t.cacheType)
        errs.push(
          'providers.tokenAttributes.cacheType: Required value: cacheType is required to be set when tokenAttributes is specified. Supported values are: ServiceAccount, Token',
        );
      else if (t.cacheType !== 'Token' && t.cacheType !== 'ServiceAccount')
        errs.push(
          `providers.tokenAttributes.cacheType: Unsupported value: ${JSON.stringify(t.cacheType)}`,
        );
      tokenAttributes = {
        serviceAccountTokenAudience: audience,
        cacheType: t.cacheType as TokenAttributes['cacheType'],
        requireServiceAccount: t.requireServiceAccount === true,
        requiredServiceAccountAnnotationKeys: required,
        optionalServiceAccountAnnotationKeys: optional,
      };
    }
    return {
      name,
      matchImages,
      defaultCacheDuration,
      apiVersion,
      args: strings(p.args, `providers[${i}].args`),
      env,
      tokenAttributes,
    };
  });
  if (errs.length)
    throw new KubeletConfigError(
      `failed to validate credential provider config: [${errs.join(', ')}]`,
    );
  return out;
}
