// The sandbox's setup for the three host entry points: an AppRole role allowed the engine account's
// read path, and next to the env file a configuration file for each of the credential helper, the
// kubelet provider and the Swarm driver, the bins of this checkout under their installed names, and
// the one command that tries each. The role_id and secret_id go to files (0600), never to stdout.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { baoApi, makeAppRole } from '../test/harness/approle.js';
import type { DaemonEnv } from '../test/harness/types.js';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const ROLE = 'sandbox-host';

/** Writes the setup under `dir` and returns the lines that say how to try it. */
export async function hostSetups(env: DaemonEnv, dir: string): Promise<string[]> {
  const { engineMount, account } = env.fixtures;
  const secretPath = `${engineMount}/token/${account}/read`;
  await baoApi(env, 'PUT', `sys/policies/acl/${ROLE}`, {
    policy: [
      `path "${secretPath}" { capabilities = ["create", "update"] }`,
      `path "sys/leases/revoke/${engineMount}/token/${account}/*" { capabilities = ["update"] }`,
    ].join('\n'),
  });
  const role = await makeAppRole(env, ROLE, [ROLE]);
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text, { mode: 0o600 });
    return join(dir, name);
  };
  const auth = {
    method: 'approle',
    role_id_file: file('role-id', `${role.roleId}\n`),
    secret_id_file: file('secret-id', `${await role.secretId()}\n`),
    state_dir: join(dir, 'state'),
  };
  const vault = { url: env.vaultAddr };
  const registries = [{ registry: env.registry.host, secret_path: secretPath }];

  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const [name, target] of [
    ['docker-credential-vault', 'credential-helper/index.cjs'],
    ['vault-credential-provider', 'kubelet-provider/index.js'],
    ['vault-swarm-secrets', 'swarm-driver/index.js'],
  ])
    symlinkSync(join(DIST, target ?? ''), join(bin, name ?? ''));

  const helper = file('credential-helper.yml', stringify({ vault, auth, registries }));
  const helperDocker = join(dir, 'docker-helper');
  mkdirSync(helperDocker, { mode: 0o700 });
  file(
    'docker-helper/config.json',
    `${JSON.stringify({ credHelpers: { [env.registry.host]: 'vault' } }, null, 2)}\n`,
  );
  const kubelet = file('kubelet-provider.yml', stringify({ vault, auth, registries }));
  const request = file(
    'request.json',
    `${JSON.stringify({ apiVersion: 'credentialprovider.kubelet.k8s.io/v1', kind: 'CredentialProviderRequest', image: env.privateImage })}\n`,
  );
  const swarm = file(
    'swarm-driver.yml',
    stringify({ vault, auth, driver: { socket: join(dir, 'vault-swarm-secrets.sock') } }),
  );

  return [
    `Host entry points: AppRole role ${ROLE} (policy ${ROLE}: ${secretPath}), its role_id and secret_id in ${dir}/role-id and secret-id.`,
    `The private image ${env.privateImage} is in the registry; a Docker daemon of the sandbox is at ${env.daemon.host}.`,
    '  The credential helper (docker asks it for the registry named in credHelpers):',
    `    PATH=${bin}:$PATH DOCKER_HOST=${env.daemon.host} DOCKER_CONFIG=${helperDocker} VAULT_DOCKER_LOGIN_CONFIG=${helper} VAULT_DOCKER_LOGIN_CACHE_DIR=${join(dir, 'helper-cache')} docker pull ${env.privateImage}`,
    '  The kubelet credential provider (the kubelet writes the request on stdin):',
    `    ${bin}/vault-credential-provider --config ${kubelet} < ${request}`,
    '  The Swarm secrets driver (checks its configuration and its Vault login):',
    `    ${bin}/vault-swarm-secrets doctor --config ${swarm}`,
  ];
}
