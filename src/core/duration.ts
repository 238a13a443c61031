// The one duration form of the configuration file: whole seconds (`30`), or hours, minutes and
// seconds as Go writes them (`30s`, `5m`, `1m30s`, `1h`). The kubelet's own files use Go's form;
// a bare number stays seconds, as vault.timeout always took it.

const FORM = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Whole seconds, or undefined when `value` is not a duration. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const m = FORM.exec(text);
  if (!m || text === '') return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** How a setting's message shows the accepted forms. */
export const DURATION_FORMS = 'whole seconds or a duration such as 30, 30s, 5m or 1m30s';
