// The driver's log: one line per event on stderr (journald keeps it). It may carry names and
// identifiers (secret, service and task names, the Vault path and method, lease ids, a wrapping
// token's accessor, error texts); never a value, a Vault token or a wrapping token. Callers pass
// only such fields: nothing secret reaches this module.

export interface DriverLog {
  info(event: string, fields?: Record<string, string | number | undefined>): void;
  error(event: string, fields?: Record<string, string | number | undefined>): void;
}

/** key=value, quoted when the value has spaces, quotes or newlines (kept on one line). */
function render(fields: Record<string, string | number | undefined>): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => {
      const s = String(v);
      return /[\s"=]/.test(s) ? `${k}=${JSON.stringify(s)}` : `${k}=${s}`;
    })
    .join(' ');
}

export function streamLog(write: (line: string) => void): DriverLog {
  const line = (
    level: string,
    event: string,
    fields: Record<string, string | number | undefined>,
  ) => {
    const rest = render(fields);
    write(`${level} ${event}${rest ? ` ${rest}` : ''}\n`);
  };
  return {
    info: (event, fields = {}) => line('info', event, fields),
    error: (event, fields = {}) => line('error', event, fields),
  };
}
