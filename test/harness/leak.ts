// Scans output for secrets. Reports say which kind of secret leaked and where, never the value.

/** What a secret is, told from its shape, so a report can name it without showing it. */
export function secretKind(secret: string): string {
  if (/^eyJ[\w-]*\.[\w-]+\.[\w-]+$/.test(secret)) {
    // The registry's token service signs with a certificate (x5c); the OIDC issuer with a kid.
    const header = Buffer.from(secret.split('.')[0] ?? '', 'base64url').toString();
    return header.includes('"x5c"') ? 'registry bearer token (JWT)' : 'OIDC token (JWT)';
  }
  if (secret.startsWith('dckr_pat_')) return 'Docker Hub access token';
  if (/^(s|hvs|hvb|b)\.[\w-]+$/.test(secret) || secret.startsWith('root-')) return 'Vault token';
  const decoded = Buffer.from(secret, 'base64').toString('latin1');
  if (
    /^[\w.-]+:\S+$/.test(decoded) &&
    Buffer.from(decoded, 'latin1').toString('base64') === secret
  ) {
    return 'base64 user:secret (docker config auth)';
  }
  return 'password or request token';
}

export interface LeakOptions {
  /** Allow a secret on GitHub `::add-mask::<secret>` lines (and only there). */
  allowAddMask?: boolean;
}

/** Describes every leak found: kind of secret and line number, never the value. */
export function findLeaks(output: string, secrets: string[], opts: LeakOptions = {}): string[] {
  const found: string[] = [];
  const lines = output.split(/\r?\n/);
  const unique = [...new Set(secrets)].filter((s) => s.length >= 8);
  for (const [i, line] of lines.entries()) {
    for (const s of unique) {
      if (!line.includes(s)) continue;
      if (opts.allowAddMask && line.trim() === `::add-mask::${s}`) continue;
      found.push(`line ${i + 1}: ${secretKind(s)} (${s.length} chars) appears in the output`);
    }
  }
  return found;
}

/** Throws listing every leak (without the values). */
export function expectNoLeaks(output: string, secrets: string[], opts: LeakOptions = {}): void {
  const leaks = findLeaks(output, secrets, opts);
  if (leaks.length > 0) throw new Error(`Secrets leaked into the output:\n${leaks.join('\n')}`);
}

/**
 * True when `::add-mask::<secret>` comes before any other line that contains the secret
 * (GitHub masks only from the moment it sees the command), and the secret is masked at all.
 */
export function maskedBeforeUse(output: string, secret: string): boolean {
  for (const line of output.split(/\r?\n/)) {
    if (line.trim() === `::add-mask::${secret}`) return true;
    if (line.includes(secret)) return false;
  }
  return false;
}

/** A PEM's base64 body lines: what a leak of a private key would show, to scan for as secrets. */
export function pemBodyLines(pem: string): string[] {
  return pem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));
}
