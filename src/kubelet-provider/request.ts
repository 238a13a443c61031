// The CredentialProviderRequest the kubelet writes on stdin. Nothing of stdin is ever repeated in
// a message: it may hold the pod's service account token.
import { VdlError } from '../core/errors.js';

export const GROUP = 'credentialprovider.kubelet.k8s.io';
/** The versions a kubelet may speak; the answer uses the request's (the kubelet requires it). */
export const API_VERSIONS = [`${GROUP}/v1`, `${GROUP}/v1beta1`, `${GROUP}/v1alpha1`];

export interface ProviderRequest {
  apiVersion: string;
  image: string;
  /** The pod's service account token, with tokenAttributes in the kubelet's configuration. */
  serviceAccountToken?: string;
  /** The annotations tokenAttributes lists, as the service account carries them. */
  annotations: Record<string, string>;
}

const HOW =
  'The kubelet writes one on stdin; by hand: echo \'{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"registry.example.com/app"}\' | vault-credential-provider --config FILE';

function bad(what: string): VdlError {
  return new VdlError('config', `stdin is not a CredentialProviderRequest: ${what}.`, HOW);
}

export function parseRequest(stdin: string): ProviderRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(stdin);
  } catch {
    // JSON.parse quotes the text around the fault: never pass its message on.
    throw bad(stdin.trim() ? 'it is not JSON' : 'stdin is empty');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw bad('it is not a JSON object');
  const r = doc as Record<string, unknown>;
  if (typeof r.apiVersion !== 'string' || !API_VERSIONS.includes(r.apiVersion))
    throw bad(
      `apiVersion is ${JSON.stringify(r.apiVersion ?? null)}, expected ${API_VERSIONS[0]} (set it as the provider's apiVersion in the kubelet's CredentialProviderConfig)`,
    );
  if (r.kind !== 'CredentialProviderRequest')
    throw bad(`kind is ${JSON.stringify(r.kind ?? null)}, expected CredentialProviderRequest`);
  if (typeof r.image !== 'string' || !r.image.trim()) throw bad('it names no image');
  const token = r.serviceAccountToken;
  if (token !== undefined && token !== null && typeof token !== 'string')
    throw bad('serviceAccountToken is not a string');
  const annotations: Record<string, string> = {};
  const given = r.serviceAccountAnnotations;
  if (given !== undefined && given !== null) {
    if (typeof given !== 'object' || Array.isArray(given))
      throw bad('serviceAccountAnnotations is not a map');
    for (const [k, v] of Object.entries(given)) {
      if (typeof v !== 'string') throw bad(`serviceAccountAnnotations.${k} is not a string`);
      annotations[k] = v;
    }
  }
  return {
    apiVersion: r.apiVersion,
    image: r.image.trim(),
    serviceAccountToken: typeof token === 'string' && token.trim() ? token.trim() : undefined,
    annotations,
  };
}
