// Medians, p95 and markdown tables for the benchmark.

export type Series = Record<string, number[]>;

export function add(s: Series, key: string, ms: number): void {
  s[key] ??= [];
  s[key].push(ms);
}

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}
export const median = (xs: number[] = []) => quantile(xs, 0.5);

export const fmt = (ms: number) => (Number.isNaN(ms) ? '-' : `${ms.toFixed(0)} ms`);

export function table(title: string, s: Series): string {
  const rows = Object.entries(s).map(
    ([k, v]) => `| ${k} | ${fmt(median(v))} | ${fmt(quantile(v, 0.95))} |`,
  );
  return [`| ${title} | median | p95 |`, '|---|---:|---:|', ...rows].join('\n');
}

/** Sum of the medians of `keys`: a floor made of parts measured separately. */
export const sumOfMedians = (s: Series, keys: string[]) =>
  keys.map((k) => median(s[k])).reduce((a, b) => a + b, 0);

/** `value / floor` with the verdict against `bound`, for the report. */
export function ratio(label: string, value: number, floor: number, bound: number) {
  const r = value / floor;
  return {
    label,
    value,
    floor,
    ratio: r,
    bound,
    ok: r <= bound,
    line: `${label}: ${fmt(value)} / ${fmt(floor)} = **${r.toFixed(2)}x** (bound ${bound}x) ${r <= bound ? 'within' : 'OVER'}`,
  };
}
