// The TLS settings for Vault as the connection options Node's tls takes (files read once).
import { readFileSync } from 'node:fs';
import { VdlError } from './errors.js';
import { naming, type SettingNames } from './setting-names.js';
import type { TlsConfig } from './vault-connection.js';

export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
}

/** A file named by `setting` (the CLI's flag, the host file's key) or by its VAULT_* variable. */
function read(setting: string, variable: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new VdlError(
      'config',
      `Cannot read ${variable} file ${file} (${setting} or ${variable}): ${(err as Error).message}`,
    );
  }
}

export function tlsMaterial(tls?: TlsConfig, names?: SettingNames): TlsMaterial {
  const name = naming(names);
  const file =
    (id: 'ca-certificate' | 'client-certificate' | 'client-key', variable: string) =>
    (path: string) =>
      read(name(id), variable, path);
  const ca = file('ca-certificate', 'VAULT_CACERT');
  const cert = file('client-certificate', 'VAULT_CLIENT_CERT');
  const key = file('client-key', 'VAULT_CLIENT_KEY');
  return {
    ca: tls?.ca ?? (tls?.caFile ? ca(tls.caFile) : undefined),
    cert: tls?.cert ?? (tls?.certFile ? cert(tls.certFile) : undefined),
    key: tls?.key ?? (tls?.keyFile ? key(tls.keyFile) : undefined),
    rejectUnauthorized: !tls?.skipVerify,
  };
}
