// Durations as the kubelet reads them in an answer: whole seconds in Go's own format. (Settings
// are parsed by the configuration file's one duration parser, core/duration.ts.)

/** Whole seconds as Go's time.Duration prints them: `0s`, `45s`, `4m30s`, `1h0m0s`. */
export function goDuration(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
