// How the host entry points' configuration file (credential helper, kubelet provider, Swarm
// driver) names each setting in messages: its keys.
import type { SettingNames } from './setting-names.js';

export const HOST_FILE_NAMES: SettingNames = {
  url: 'vault.url',
  namespace: 'vault.namespace',
  'auth-namespace': 'vault.auth_namespace',
  'auth-mount': 'auth.mount',
  role: 'auth.role',
  audience: 'the audience the JWT is minted for',
  'engine-mount': 'engine_mount',
  // An entry's own keys are named by its place (registries[0].secret_path); these are fallbacks.
  account: 'the account in registries[].secret_path',
  scope: 'the scope in registries[].secret_path',
  'secret-path': 'registries[].secret_path',
  'username-field': 'registries[].username_field',
  'password-field': 'registries[].password_field',
  registry: 'registries[].registry',
  registries: 'registries',
  timeout: 'vault.timeout',
  retries: 'vault.retries',
  'ca-certificate': 'vault.ca_cert',
  'client-certificate': 'vault.client_cert',
  'client-key': 'vault.client_key',
  'tls-skip-verify': 'vault.tls_skip_verify',
};
