// What a credential-helper job's helper holds: every credential and Vault token it was given,
// read from the job directory after each docker command the job runs, so a test (or the demo) can
// prove afterwards that the registry refuses every one and every token is dead.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './procs.js';
import type { CommandResult } from './types.js';

/** What a job's helper holds: every credential and Vault token it was given, for later checks. */
export class JobWitness {
  readonly creds = new Map<string, { username: string; secret: string }>();
  readonly leases = new Set<string>();
  readonly tokens = new Set<string>();
  printed = '';

  constructor(readonly jobDir: string) {}

  /** Reads the job directory (the test runs as the job's user). */
  look(): void {
    const cache = join(this.jobDir, 'cache');
    for (const n of readdirSync(cache).filter((f) => /^credential-helper-.*\.json$/.test(f))) {
      const doc = JSON.parse(readFileSync(join(cache, n), 'utf8')) as {
        entries: Record<string, { username: string; secret: string; leaseId?: string }>;
        retired: { username: string; secret: string; leaseId?: string }[];
        vault?: { token: string };
      };
      for (const e of [...Object.values(doc.entries), ...doc.retired]) {
        this.creds.set(e.secret, { username: e.username, secret: e.secret });
        if (e.leaseId) this.leases.add(e.leaseId);
      }
      if (doc.vault) this.tokens.add(doc.vault.token);
    }
    this.tokens.add(readFileSync(join(this.jobDir, 'token'), 'utf8').trim());
  }

  secrets(): string[] {
    return [...this.tokens, ...[...this.creds.values()].map((c) => c.secret)];
  }

  /** docker (or any tool) as a later step of the job runs it; the job's helper is looked at after. */
  async step(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
    const r = await run(cmd, args, { env });
    this.printed += `${cmd} ${args.join(' ')}\n${r.stdout}\n${r.stderr}\n`;
    this.look();
    return r;
  }
}
