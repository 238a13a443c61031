// Non-secret claims of a JWT, decoded without verifying, only to explain a refusal.

const SHOWN = [
  'iss',
  'aud',
  'sub',
  'repository',
  'ref',
  'environment',
  'job_workflow_ref',
  'oidc.circleci.com/project-id',
  'oidc.circleci.com/vcs-ref',
  'project_path',
  'pipeline_slug',
] as const;

export function decodeClaims(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1];
  if (!payload) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** `  name: value` lines for the claims worth showing; values are identifiers, never secrets. */
export function shownClaims(jwt: string): string {
  const claims = decodeClaims(jwt);
  return SHOWN.filter((k) => claims[k] !== undefined)
    .map((k) => `  ${k}: ${JSON.stringify(claims[k])}`)
    .join('\n');
}
