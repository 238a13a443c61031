// `vault-credential-provider doctor [--config FILE]`: run by hand on a node, it says which
// configuration and state directory the kubelet's runs use, and whether Vault lets them lease.
import { doctorLogin, stateDirFinding } from '../auth/doctor-login.js';
import {
  doctorExit,
  entryCount,
  errorFinding,
  type Finding,
  pathUses,
  renderReport,
  vaultFindings,
} from '../core/doctor.js';
import { describe } from '../core/errors.js';
import { registryKey } from '../core/registry-name.js';
import { configFlag } from './args.js';
import { configPath, loadProviderConfig } from './config.js';

export async function doctor(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (text: string) => void,
): Promise<number> {
  const findings: Finding[] = [];
  let file: string;
  try {
    file = configPath(configFlag(argv), env);
  } catch (err) {
    out(`${describe(err)}\n`);
    return 2;
  }
  try {
    const { host } = await loadProviderConfig(file, env, 'doctor');
    findings.push({
      verdict: 'ok',
      what: 'config file',
      detail: `${file} (${entryCount(host.entries.length)})`,
    });
    findings.push(...stateDirFinding(host.auth, env));
    findings.push(
      ...(await vaultFindings({
        connection: host.connection,
        auth: doctorLogin(host.auth, env, host.connection.authNamespace, true),
        paths: host.entries.flatMap((e) =>
          pathUses(`registry ${registryKey(e.registry)}`, e.source),
        ),
        now: Date.now(),
      })),
    );
  } catch (err) {
    findings.push(errorFinding('config file', err));
  }
  out(renderReport('vault-credential-provider doctor', findings));
  return doctorExit(findings);
}
