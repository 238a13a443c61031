// What every entry point supplies to the core: where a JWT comes from, how secrets are masked,
// where messages go.
import type { Naming } from './setting-names.js';

export interface IdentityProvider {
  /** Fetches the CI's OIDC token; may retry until `deadline` (epoch ms). */
  getToken(audience: string | undefined, deadline: number): Promise<string>;
  /** Where this identity's audience is set, for a login the role refuses over its audience. */
  audienceHint?: (name: Naming) => string;
}

export interface Masker {
  /** Called the moment a secret exists, before anything could print it. */
  mask(secret: string): void;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}
