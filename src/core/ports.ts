// What every entry point supplies to the core: where a JWT comes from, how secrets are masked,
// where messages go; and the shape of one HTTP exchange, whichever client carries it.
import type { IncomingHttpHeaders } from 'node:http';
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

/** One HTTP request as the Vault client makes it (transport.ts, transport-proxy.ts carry it). */
export interface TransportRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

export interface TransportAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}
