// The test issuer's signing key as PEM: what a cluster's API server signs service account tokens
// with (`sa.pub`), for Vault's `jwt_validation_pubkeys`.
import { createPublicKey, type JsonWebKey } from 'node:crypto';

export async function issuerPublicKeyPem(issuerUrl: string): Promise<string> {
  const { keys } = (await (await fetch(`${issuerUrl}/jwks`)).json()) as { keys: JsonWebKey[] };
  const [key] = keys;
  if (!key) throw new Error(`${issuerUrl}/jwks has no key`);
  return String(createPublicKey({ key, format: 'jwk' }).export({ type: 'spki', format: 'pem' }));
}
