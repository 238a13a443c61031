// The TLS settings for Vault as the connection options Node's tls takes (files read once).
import { readFileSync } from 'node:fs';
import type { TlsConfig } from './config.js';
import { VdlError } from './errors.js';

export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
}

function read(input: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new VdlError('config', `Cannot read ${input} file ${file}: ${(err as Error).message}`);
  }
}

export function tlsMaterial(tls?: TlsConfig): TlsMaterial {
  return {
    ca: tls?.ca ?? (tls?.caFile ? read('VAULT_CACERT', tls.caFile) : undefined),
    cert: tls?.cert ?? (tls?.certFile ? read('VAULT_CLIENT_CERT', tls.certFile) : undefined),
    key: tls?.key ?? (tls?.keyFile ? read('VAULT_CLIENT_KEY', tls.keyFile) : undefined),
    rejectUnauthorized: !tls?.skipVerify,
  };
}
