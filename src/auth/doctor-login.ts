// How `doctor` logs in for a host configuration: as the entry point would, except where that would
// use something up (a wrapped AppRole secret_id works once) or needs what only a real request
// carries (the pod's service account token).
import { type DoctorLogin, dirFinding, type Finding } from '../core/doctor.js';
import type { AuthSettings } from '../core/host-config.js';
import { defaultStateDir } from './file-keeper.js';
import { authMethod } from './from-settings.js';
import { memoryKeeper } from './method.js';

export function doctorLogin(
  auth: AuthSettings,
  env: NodeJS.ProcessEnv,
  namespace: string | undefined,
  perRequestJwt = false,
): { method: DoctorLogin } | { skip: string } {
  if (auth.method === 'approle' && auth.wrapped)
    return {
      skip: `auth.secret_id_wrapped is on: the wrapping token in ${auth.secretIdFile} works once, so doctor does not unwrap it (the entry point's first run does)`,
    };
  if (auth.method === 'jwt' && !auth.jwtFile && perRequestJwt)
    return {
      skip: `JWT login on auth/${auth.mount} with each pod's service account token: only a real pull carries one`,
    };
  try {
    return { method: authMethod(auth, { env, keeper: memoryKeeper(), namespace }) };
  } catch (err) {
    return { skip: (err as Error).message };
  }
}

/** Where an AppRole login keeps its unwrapped secret_id (auth.state_dir); other logins keep none. */
export function stateDirFinding(auth: AuthSettings, env: NodeJS.ProcessEnv): Finding[] {
  if (auth.method !== 'approle' || !auth.wrapped) return [];
  return [dirFinding('state directory', auth.stateDir ?? defaultStateDir(env), 'auth.state_dir')];
}
