// Core messages say WHICH setting to change (a SettingId); each entry point says it in its own
// words through one table: the Action's inputs, the CLI's flags, the host file's keys.
// A new entry point adds a table; no core message changes.

/** The settings core messages point at, by the Action's input names. */
export type SettingId =
  | 'url'
  | 'namespace'
  | 'auth-namespace'
  | 'auth-mount'
  | 'role'
  | 'audience'
  | 'engine-mount'
  | 'account'
  | 'scope'
  | 'secret-path'
  | 'username-field'
  | 'password-field'
  | 'registry'
  | 'registries'
  | 'timeout'
  | 'retries'
  | 'ca-certificate'
  | 'client-certificate'
  | 'client-key'
  | 'tls-skip-verify';

/** How one entry point names each setting inside a sentence ("the retries input", "--retries"). */
export type SettingNames = Readonly<Record<SettingId, string>>;

/** Says a setting's name; `name(id)` fits where "the retries input" would stand. */
export type Naming = (id: SettingId) => string;

/** The Action's words; the core's raw inputs carry these names, so it is also the default. */
export const ACTION_NAMES: SettingNames = {
  url: 'the url input',
  namespace: 'the namespace input',
  'auth-namespace': 'the auth-namespace input',
  'auth-mount': 'the auth-mount input',
  role: 'the role input',
  audience: 'the audience input',
  'engine-mount': 'the engine-mount input',
  account: 'the account input',
  scope: 'the scope input',
  'secret-path': 'the secret-path input',
  'username-field': 'the username-field input',
  'password-field': 'the password-field input',
  registry: 'the registry input',
  registries: 'the registries input',
  timeout: 'the timeout input',
  retries: 'the retries input',
  'ca-certificate': 'the ca-certificate input',
  'client-certificate': 'the client-certificate input',
  'client-key': 'the client-key input',
  'tls-skip-verify': 'the tls-skip-verify input',
};

/**
 * A registry entry from a `registries` list names its own keys (the same YAML in every entry
 * point): the account and scope are parts of its secret_path.
 */
const ENTRY_KEYS: Partial<Record<SettingId, string>> = {
  account: 'secret_path',
  scope: 'secret_path',
  'secret-path': 'secret_path',
  'username-field': 'username_field',
  'password-field': 'password_field',
  registry: 'registry',
};

/** The words for settings, those of a listed registry entry (`at`: "registries[0]") by its keys. */
export function naming(names: SettingNames = ACTION_NAMES, at?: string): Naming {
  return (id) => {
    const key = at ? ENTRY_KEYS[id] : undefined;
    return key ? `${at}.${key}` : names[id];
  };
}
