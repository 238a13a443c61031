// Reads a host entry point's configuration file (YAML; JSON is YAML too) into a document for
// parseHostConfig. The parser is imported here, on first use, so callers that only locate the
// file stay small.
import { readFile } from 'node:fs/promises';
import { VdlError } from './errors.js';
import { CONFIG_ENV } from './host-config-path.js';
import { parseYaml } from './yaml-text.js';

export async function readHostConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new VdlError(
      'config',
      `Cannot read the configuration file ${file} (${code}).`,
      `Create it, or set ${CONFIG_ENV} to the file to use.`,
    );
  }
  return parseYaml(
    text,
    (where) => new VdlError('config', `The configuration file ${file} is not valid YAML${where}.`),
  );
}
