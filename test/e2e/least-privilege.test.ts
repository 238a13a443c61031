// Least privilege for lease revocation: leases are revoked by path (sys/leases/revoke/<lease id>),
// so a policy can grant revoking one engine's leases and nothing else. Checked against leases
// OpenBao itself issues (PKI with generate_lease), with the client every entry point uses.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTransport } from '../../src/core/transport.js';
import { VaultClient } from '../../src/core/vault.js';
import { baoApi, makeToken } from '../harness/approle.js';
import { startEnv, type TestEnv } from '../harness/index.js';

let env: TestEnv;
beforeAll(async () => {
  env = await startEnv();
  await baoApi(env, 'POST', 'sys/mounts/pki-lp', { type: 'pki' });
  await baoApi(env, 'POST', 'pki-lp/root/generate/internal', { common_name: 'lp.test' });
  for (const role of ['leased', 'other'])
    await baoApi(env, 'POST', `pki-lp/roles/${role}`, {
      allow_any_name: true,
      generate_lease: true,
      ttl: '5m',
    });
  await baoApi(env, 'PUT', 'sys/policies/acl/pki-own', {
    policy: [
      'path "pki-lp/issue/leased" { capabilities = ["create", "update"] }',
      'path "sys/leases/revoke/pki-lp/issue/leased/*" { capabilities = ["update"] }',
    ].join('\n'),
  });
});
afterAll(async () => {
  await env?.stop();
});

const issue = async (role: string, token: string) =>
  (await baoApi(env, 'POST', `pki-lp/issue/${role}`, { common_name: 'a.lp.test' }, { token }))
    .lease_id as string;

/** Whether OpenBao still knows the lease (root looks it up). */
const alive = (leaseId: string) =>
  baoApi(env, 'PUT', 'sys/leases/lookup', { lease_id: leaseId }).then(
    () => true,
    () => false,
  );

it("a policy granting only sys/leases/revoke/<engine path>/* revokes that engine's leases, and no other", async () => {
  const token = await makeToken(env, ['pki-own']);
  const vault = new VaultClient({
    url: env.baoAddr,
    transport: createTransport(),
    retries: 0,
    deadline: Date.now() + 20_000,
  });
  const own = await issue('leased', token);
  expect(own).toMatch(/^pki-lp\/issue\/leased\//);
  expect(await alive(own)).toBe(true);
  expect(await vault.revokeLease(own, token)).toBe('revoked');
  expect(await alive(own)).toBe(false);

  // A lease of another role: outside the narrowed path, refused, still alive.
  const other = await issue('other', env.rootToken);
  expect(await vault.revokeLease(other, token)).toBe('forbidden');
  expect(await alive(other)).toBe(true);
  await baoApi(env, 'PUT', `sys/leases/revoke/${other}`);
});
