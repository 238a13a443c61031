// The AuthMethod a host configuration's `auth` section describes.
import { VdlError } from '../core/errors.js';
import type { AuthSettings } from '../core/host-config.js';
import { HOST_FILE_NAMES } from '../core/host-config-names.js';
import type { IdentityProvider } from '../core/ports.js';
import { jwtFileIdentity } from '../identity/jwt-file.js';
import { appRole } from './approle.js';
import { defaultStateDir, fileKeeper } from './file-keeper.js';
import { jwtAuth } from './jwt.js';
import type { AuthMethod, Keeper } from './method.js';
import { envToken } from './token.js';
import { tokenFile } from './token-file.js';

export interface AuthDeps {
  env: NodeJS.ProcessEnv;
  /** Where an unwrapped secret_id is kept; by default the file keeper in auth.state_dir. */
  keeper?: Keeper;
  namespace?: string;
  /** The JWT when the caller has one (a kubelet's service account token); else auth.jwt_file. */
  identity?: { provider: IdentityProvider; source: string };
}

export function authMethod(s: AuthSettings, d: AuthDeps): AuthMethod {
  switch (s.method) {
    case 'token':
      return envToken(d.env.VAULT_TOKEN);
    case 'token_file':
      return tokenFile(s.tokenFile);
    case 'jwt': {
      const id =
        d.identity ??
        (s.jwtFile
          ? { provider: jwtFileIdentity(s.jwtFile, 'auth.jwt_file'), source: s.jwtFile }
          : undefined);
      if (!id)
        throw new VdlError(
          'config',
          'auth.method is jwt but no JWT is at hand: auth.jwt_file is not set.',
          'Set auth.jwt_file to the file holding the JWT (a Nomad workload identity, a service account token).',
        );
      return jwtAuth({
        mount: s.mount,
        role: s.role,
        namespace: d.namespace,
        identity: id.provider,
        source: id.source,
        names: HOST_FILE_NAMES,
      });
    }
    case 'approle':
      return appRole(
        { ...s, namespace: d.namespace, names: HOST_FILE_NAMES },
        d.keeper ?? fileKeeper(s.stateDir ?? defaultStateDir(d.env)),
      );
  }
}
