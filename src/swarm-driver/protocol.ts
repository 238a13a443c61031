// The legacy plugin protocol a Swarm manager speaks to a secrets driver (docker/go-plugins-helpers
// `secrets`, swarmkit `manager/drivers`): JSON over HTTP POST on a unix socket.

/** What `/Plugin.Activate` answers: the one subsystem this plugin implements. */
export const MANIFEST = { Implements: ['secretprovider'] };

/** The media type plugins answer with (the daemon sends `Accept: ...v1.2+json` and reads any JSON). */
export const CONTENT_TYPE = 'application/vnd.docker.plugins.v1.1+json';

/** The manager's request; absent fields are omitted (Go `omitempty`). */
export interface SecretRequest {
  SecretName?: string;
  SecretLabels?: Record<string, string>;
  ServiceID?: string;
  ServiceName?: string;
  ServiceHostname?: string;
  ServiceLabels?: Record<string, string>;
  TaskID?: string;
  TaskName?: string;
  TaskImage?: string;
  NodeID?: string;
}

/** The answer: `Value` is base64 (a Go []byte); `DoNotReuse` gives every task its own value. */
export interface SecretAnswer {
  Value?: string;
  DoNotReuse?: boolean;
  Err?: string;
}

const stringMap = (v: unknown): v is Record<string, string> =>
  !!v &&
  typeof v === 'object' &&
  !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === 'string');

/** The request body -> a SecretRequest; a message saying what is malformed otherwise. */
export function parseSecretRequest(body: string): SecretRequest | string {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return 'The request body is not JSON.';
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return 'The request is not an object.';
  const r = doc as Record<string, unknown>;
  for (const k of ['SecretLabels', 'ServiceLabels'])
    if (r[k] !== undefined && r[k] !== null && !stringMap(r[k]))
      return `${k} must map names to strings.`;
  return r as SecretRequest;
}

export function valueAnswer(value: Buffer, doNotReuse: boolean): SecretAnswer {
  return { Value: value.toString('base64'), DoNotReuse: doNotReuse };
}
