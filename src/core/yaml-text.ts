// The YAML parser behind one function. It is imported on first use, so it is a chunk of its own
// (dist/shared/yaml.js) that runs without a YAML input or configuration file never load.
// YAML is a superset of JSON: JSON text parses too.

/** Parses `text`; a syntax error becomes `invalid(where)`, where is " (line L, column C)" or "". */
export async function parseYaml(text: string, invalid: (where: string) => Error): Promise<unknown> {
  const { parse } = await import('yaml');
  try {
    return parse(text);
  } catch (err) {
    const at = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    throw invalid(at ? ` (line ${at.line}, column ${at.col})` : '');
  }
}
