// Typed errors. Every one carries a hint that says what to change; adapters print both.

export type ErrorKind =
  | 'config'
  | 'identity'
  | 'vault-login'
  | 'vault-permission'
  | 'vault'
  | 'engine'
  | 'timeout'
  | 'network'
  /** The TLS handshake failed for a reason retrying cannot fix (untrusted certificate). */
  | 'tls'
  | 'credential'
  | 'docker'
  /** A response-wrapping token was already used, expired or re-wrapped: possible interception. */
  | 'wrapping';

export class VdlError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'VdlError';
  }
}

/**
 * A bad input: names the input and the accepted form. The message reads `Input "x": ...`; an
 * entry point with other names gives its `label` (a config file's key) or prints `input` and
 * `detail` its own way (the CLI: `--x ...`). Other settings inside `detail` are named through the
 * entry point's table (setting-names.ts).
 */
export class ConfigError extends VdlError {
  constructor(
    readonly input: string,
    /** What is wrong and the accepted form, without the input's name. */
    readonly detail: string,
    /** How the entry point names its inputs in messages ("Input", "Flag", a config file). */
    label = 'Input',
  ) {
    super('config', `${label} "${input}": ${detail}`);
    this.name = 'ConfigError';
  }
}

/** An answer from Vault that is not a success, after retries. */
export class VaultHttpError extends VdlError {
  /** The `Retry-After` header of the last answer, for the retry loop. */
  retryAfter?: string;
  constructor(
    readonly status: number,
    readonly path: string,
    readonly errors: string[],
    kind: ErrorKind = 'vault',
    hint?: string,
    message?: string,
  ) {
    super(
      kind,
      message ?? `Vault answered ${status} on ${path}: ${errors.join('; ') || '(no details)'}`,
      hint,
    );
    this.name = 'VaultHttpError';
  }
}

/** The full message for a log line: message, then the hint. */
export function describe(err: unknown): string {
  if (err instanceof VdlError) return err.hint ? `${err.message}\n${err.hint}` : err.message;
  return err instanceof Error ? err.message : String(err);
}
