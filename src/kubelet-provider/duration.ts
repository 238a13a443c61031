// Durations as the kubelet writes and reads them: Go duration strings (`4m30s`, `1h0m0s`).
// Settings take whole hours, minutes and seconds; answers are whole seconds in Go's own format.
import { ConfigError } from '../core/errors.js';

const UNITS = { h: 3600, m: 60, s: 1 } as const;

/** `90s`, `5m`, `1h30m`, `0`: seconds; anything else is an error naming the key. */
export function parseSetting(key: string, value: unknown, label: string): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : '';
  if (text.trim() === '0') return 0;
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  if (!m || text.trim() === '')
    throw new ConfigError(
      key,
      `must be a duration such as 30s, 5m or 1h30m; got ${JSON.stringify(value)}.`,
      label,
    );
  return Number(m[1] ?? 0) * UNITS.h + Number(m[2] ?? 0) * UNITS.m + Number(m[3] ?? 0) * UNITS.s;
}

/** Whole seconds as Go's time.Duration prints them: `0s`, `45s`, `4m30s`, `1h0m0s`. */
export function goDuration(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / UNITS.h);
  const m = Math.floor((total % UNITS.h) / UNITS.m);
  const s = total % UNITS.m;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
