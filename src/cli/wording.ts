// The core names settings as the Action does (`Input "role": ...`, "the role input"); the CLI
// speaks of its flags instead.
import { INPUT_NAMES, TLS_INPUT_NAMES } from '../core/config.js';

/** The CLI takes TLS material as files, under shorter names. */
const FLAGS: Record<string, string> = {
  'ca-certificate': '--ca-cert',
  'client-certificate': '--client-cert',
  'client-key': '--client-key',
};
const KNOWN = new Set<string>([...INPUT_NAMES, ...TLS_INPUT_NAMES]);

const flag = (input: string) => FLAGS[input] ?? `--${input}`;

export function inFlags(text: string): string {
  return text
    .replace(/Input "([^"]+)": /g, (_, input: string) => `${flag(input)} `)
    .replace(/\b[Tt]he ([a-z][a-z-]*) input\b/g, (whole, input: string) =>
      KNOWN.has(input) ? flag(input) : whole,
    );
}
