// Reads a host entry point's configuration file (YAML; JSON is YAML too) into a document for
// parseHostConfig. The parser is imported here, on first use, so callers that only locate the
// file stay small. The fix a refusal gives is the entry point's: how its users name the file.
import { readFile } from 'node:fs/promises';
import { VdlError } from './errors.js';
import { parseYaml } from './yaml-text.js';

export interface FileHints {
  /** What to do when the file cannot be read: create it, or point the entry point at one. */
  unreadable: string;
  /** The page with an example of the file. */
  docs: string;
}

export async function readHostConfigFile(file: string, hints: FileHints): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new VdlError(
      'config',
      `Cannot read the configuration file ${file} (${code}).`,
      hints.unreadable,
    );
  }
  return parseYaml(
    text,
    (where) =>
      new VdlError(
        'config',
        `The configuration file ${file} is not valid YAML${where}.`,
        `Fix the YAML; ${hints.docs} has an example.`,
      ),
  );
}
