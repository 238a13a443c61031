// `vault-swarm-secrets doctor [--config FILE]`: which configuration and socket the driver uses,
// and whether it could log in to Vault. Each secret's labels choose its path, so paths are checked
// per secret by `docker secret create`, not here.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { doctorLogin, stateDirFinding } from '../auth/doctor-login.js';
import {
  doctorExit,
  errorFinding,
  type Finding,
  renderReport,
  vaultFindings,
} from '../core/doctor.js';
import { loadDriverConfig, pluginName } from './config.js';

export async function doctor(
  file: string,
  env: NodeJS.ProcessEnv,
  out: (text: string) => void,
): Promise<number> {
  const findings: Finding[] = [];
  try {
    const cfg = await loadDriverConfig(file, env);
    findings.push({ verdict: 'ok', what: 'config file', detail: file });
    findings.push(...stateDirFinding(cfg.auth, env));
    const dir = dirname(cfg.socket);
    findings.push(
      existsSync(cfg.socket)
        ? {
            verdict: 'ok',
            what: 'socket',
            detail: `${cfg.socket} exists (a driver is serving, or left it behind)`,
          }
        : existsSync(dir)
          ? {
              verdict: 'ok',
              what: 'socket',
              detail: `${cfg.socket} (the daemon knows the driver as ${pluginName(cfg.socket)})`,
            }
          : {
              verdict: 'warn',
              what: 'socket',
              detail: `${dir} does not exist: the daemon looks for plugins there`,
              fix: 'It is made when the driver starts; check driver.socket is under /run/docker/plugins.',
            },
    );
    findings.push(
      ...(await vaultFindings({
        connection: cfg.connection,
        auth: doctorLogin(cfg.auth, env, cfg.connection.authNamespace),
        paths: [],
        now: Date.now(),
      })),
    );
  } catch (err) {
    findings.push(errorFinding('config file', err));
  }
  out(renderReport('vault-swarm-secrets doctor', findings));
  return doctorExit(findings);
}
