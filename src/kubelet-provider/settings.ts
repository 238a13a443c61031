// The provider's own section of the configuration file, `kubelet:`, next to vault, auth and
// registries. Every key has a default, so the section may be left out.
import { ConfigError } from '../core/errors.js';
import type { OwnSections } from '../core/host-config.js';
import { type CACHE_KEY_TYPES, DEFAULT_ROLE_ANNOTATION } from '../core/host-config-schema.js';

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
  roleAnnotation: DEFAULT_ROLE_ANNOTATION,
} as const;

/** The section as its schema gave it, with the defaults and the one rule that needs the entries. */
export function kubeletSettings(
  section: OwnSections['kubelet'],
  file: string,
  registryCount: number,
): KubeletSettings {
  const cacheKeyType = section.cache_key_type ?? DEFAULTS.cacheKeyType;
  // The kubelet reuses a Global answer for every image the provider matches: one registry only.
  if (cacheKeyType === 'Global' && registryCount !== 1)
    throw new ConfigError(
      'kubelet.cache_key_type',
      `Global makes the kubelet reuse one answer for every image, so it needs exactly one registries entry (there are ${registryCount}); use Registry.`,
      `Config file ${file}: key`,
    );
  return {
    cacheKeyType,
    cacheMarginS: section.cache_margin ?? DEFAULTS.cacheMarginS,
    defaultCacheS: section.default_cache_duration,
    roleAnnotation: section.role_annotation ?? DEFAULTS.roleAnnotation,
  };
}
