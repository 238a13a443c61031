// How a cached answer knows the configuration it came from has not changed, without parsing it:
// the file's identity (device, inode, size, modification and change times) plus the VAULT_*
// variables that fill what the file leaves out. Any edit, replacement or chmod changes it.
import { statSync } from 'node:fs';

const ENV_INPUTS = [
  'VAULT_ADDR',
  'VAULT_NAMESPACE',
  'VAULT_CACERT',
  'VAULT_CLIENT_CERT',
  'VAULT_CLIENT_KEY',
  'VAULT_SKIP_VERIFY',
];

/** The stamp of `file` as the process sees it now; 'missing' when it cannot be read. */
export function configStamp(file: string, env: NodeJS.ProcessEnv): string {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(file);
  } catch {
    return 'missing';
  }
  const id = [st.dev, st.ino, st.size, st.mtimeMs, st.ctimeMs].join(':');
  return [id, ...ENV_INPUTS.map((k) => env[k] ?? '')].join('|');
}
