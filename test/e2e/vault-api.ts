// A raw Vault API call through the engine stand-in, for the environment's self-tests.
import type { TestEnv } from '../harness/types.js';

export async function vaultApi(
  env: TestEnv,
  method: string,
  path: string,
  token: string,
  body?: unknown,
) {
  const r = await fetch(`${env.vaultAddr}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': token, 'X-Vault-Request': 'true' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}
