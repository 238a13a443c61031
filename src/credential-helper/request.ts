// One call of the helper: which configuration, its stamp, the cache files that belong to it, and
// the registry asked about. Built before anything heavy is loaded.
import { hostConfigPath } from '../core/host-config-path.js';
import { registryKey } from '../core/registry-name.js';
import { type CacheFiles, cacheFiles } from './cache.js';
import { configStamp } from './config-stamp.js';

export interface HelperRequest {
  env: NodeJS.ProcessEnv;
  configFile: string;
  stamp: string;
  files: CacheFiles;
  /** The server address as the caller sent it (docker: https://index.docker.io/v1/ or host[:port]). */
  serverUrl: string;
  /** The configuration's key for it: docker.io, or the lower-cased host[:port]. */
  key: string;
}

export function helperRequest(env: NodeJS.ProcessEnv, serverUrl: string): HelperRequest {
  const configFile = hostConfigPath(env);
  return {
    env,
    configFile,
    stamp: configStamp(configFile, env),
    files: cacheFiles(env, configFile),
    serverUrl,
    key: serverUrl ? registryKey(serverUrl) : '',
  };
}
