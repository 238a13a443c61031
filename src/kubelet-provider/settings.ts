// The provider's own section of the configuration file, `kubelet:`, next to vault, auth and
// registries. Every key has a default, so the section may be left out.
import { ConfigError } from '../core/errors.js';
import { ownSection } from '../core/host-config.js';
import { parseSetting } from './duration.js';

export const CACHE_KEY_TYPES = ['Image', 'Registry', 'Global'] as const;
export type CacheKeyType = (typeof CACHE_KEY_TYPES)[number];

export interface KubeletSettings {
  /** How the kubelet keys the answer in its cache. */
  cacheKeyType: CacheKeyType;
  /** Taken off the credential's remaining life, so the kubelet never hands out a dying one. */
  cacheMarginS: number;
  /** For a secret without a lease (KV); undefined: the kubelet's own defaultCacheDuration. */
  defaultCacheS?: number;
  /** The service account annotation naming the Vault role to log in with. */
  roleAnnotation: string;
}

export const DEFAULTS = {
  cacheKeyType: 'Registry',
  cacheMarginS: 30,
  roleAnnotation: 'vault-docker-login.io/role',
} as const;

const KEYS = ['cache_key_type', 'cache_margin', 'default_cache_duration', 'role_annotation'];

/** An annotation key as Kubernetes allows it: [prefix/]name, name at most 63 characters. */
const ANNOTATION =
  /^(?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export function parseSettings(
  section: unknown,
  file: string,
  registryCount: number,
): KubeletSettings {
  const label = `Config file ${file}: key`;
  const raw = ownSection(section, 'kubelet', KEYS, file);
  const text = (k: string) => {
    const v = raw[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || !v.trim())
      throw new ConfigError(`kubelet.${k}`, 'must be a non-empty string.', label);
    return v.trim();
  };

  const cacheKeyType = text('cache_key_type') ?? DEFAULTS.cacheKeyType;
  if (!(CACHE_KEY_TYPES as readonly string[]).includes(cacheKeyType))
    throw new ConfigError(
      'kubelet.cache_key_type',
      `must be one of ${CACHE_KEY_TYPES.join(', ')}; got "${cacheKeyType}".`,
      label,
    );
  // The kubelet reuses a Global answer for every image the provider matches: one registry only.
  if (cacheKeyType === 'Global' && registryCount !== 1)
    throw new ConfigError(
      'kubelet.cache_key_type',
      `Global makes the kubelet reuse one answer for every image, so it needs exactly one registries entry (there are ${registryCount}); use Registry.`,
      label,
    );
  const roleAnnotation = text('role_annotation') ?? DEFAULTS.roleAnnotation;
  if (!ANNOTATION.test(roleAnnotation))
    throw new ConfigError(
      'kubelet.role_annotation',
      `must be an annotation key such as ${DEFAULTS.roleAnnotation}; got "${roleAnnotation}".`,
      label,
    );
  return {
    cacheKeyType: cacheKeyType as CacheKeyType,
    cacheMarginS:
      raw.cache_margin === undefined
        ? DEFAULTS.cacheMarginS
        : parseSetting('kubelet.cache_margin', raw.cache_margin, label),
    defaultCacheS:
      raw.default_cache_duration === undefined
        ? undefined
        : parseSetting('kubelet.default_cache_duration', raw.default_cache_duration, label),
    roleAnnotation,
  };
}
