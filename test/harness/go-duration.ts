// Go's time.ParseDuration, as the kubelet reads cacheDuration and defaultCacheDuration (metav1.Duration
// is a JSON string parsed by it): an optional sign, then one or more decimal numbers, each with an
// optional fraction and a unit (ns, us, µs, μs, ms, s, m, h); "0" alone is zero. Milliseconds out.

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  '\u00b5s': 1e3, // micro sign
  '\u03bcs': 1e3, // Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};
const MAX_NS = 2 ** 63 - 1;

export class GoDurationError extends Error {}

export function parseGoDuration(input: string): number {
  const fail = (why: string) =>
    new GoDurationError(`time: ${why} in duration ${JSON.stringify(input)}`);
  let s = input;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw fail('invalid duration');
  let total = 0;
  while (s !== '') {
    const num = /^(\d*)(?:\.(\d*))?/.exec(s);
    const whole = num?.[1] ?? '';
    const frac = num?.[2];
    // Go wants a digit on at least one side of the point.
    if (whole === '' && (frac === undefined || frac === '')) throw fail('invalid duration');
    s = s.slice(num?.[0].length ?? 0);
    const unit = /^[^\d.]+/.exec(s)?.[0];
    if (!unit) throw fail('missing unit');
    const scale = UNIT_NS[unit];
    if (scale === undefined) throw fail(`unknown unit ${JSON.stringify(unit)}`);
    s = s.slice(unit.length);
    total += Number(whole || '0') * scale + (frac ? Number(`0.${frac}`) * scale : 0);
    if (total > MAX_NS) throw fail('invalid duration');
  }
  return (sign * total) / 1e6;
}
