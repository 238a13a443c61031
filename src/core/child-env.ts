// What a child process may see of our environment: only what it needs. The Action's post step
// holds its Vault token in STATE_session and the runner's OIDC request token in its environment;
// docker, and any credential store docker calls, must not inherit them.
import { basename } from 'node:path';

/** Every program: where things are, locale, temporary files, proxies and CA files. */
const BASE =
  /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_\w+|TZ|TERM|TMPDIR|TEMP|TMP|XDG_\w+|(HTTPS?|NO|ALL)_PROXY|(https?|no|all)_proxy|SSL_CERT_(FILE|DIR)|NODE_EXTRA_CA_CERTS|SYSTEMROOT|COMSPEC|PATHEXT)$/;

/**
 * docker, and the credential stores it calls on login and logout: the desktop keyrings (D-Bus,
 * pass, gpg), the cloud registries' helpers, and ours (its configuration and Vault connection;
 * never VAULT_TOKEN, which is the session's).
 */
const DOCKER =
  /^(DOCKER_\w+|BUILDX_\w+|BUILDKIT_\w+|DBUS_SESSION_BUS_ADDRESS|DISPLAY|WAYLAND_DISPLAY|GNUPGHOME|GPG_\w+|PASSWORD_STORE_\w+|AWS_\w+|GOOGLE_\w+|CLOUDSDK_\w+|AZURE_\w+|VAULT_DOCKER_LOGIN_\w+|VAULT_(ADDR|NAMESPACE|CACERT|CAPATH|CLIENT_CERT|CLIENT_KEY|SKIP_VERIFY))$/;

/** By program name: the CI tools that mint identity tokens need their own variables. */
const NEEDS: Record<string, RegExp> = {
  docker: DOCKER,
  circleci: /^CIRCLE_\w+$/,
  'buildkite-agent': /^BUILDKITE_\w+$/,
};

/** The part of `env` that `cmd` needs. */
export function childEnv(cmd: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const own = NEEDS[basename(cmd)];
  return Object.fromEntries(
    Object.entries(env).filter(([k, v]) => v !== undefined && (BASE.test(k) || own?.test(k))),
  );
}
