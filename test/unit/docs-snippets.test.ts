// Docs are code: every shell block in README.md and docs/ that writes Vault's configuration is
// marked to run in the suite (test/e2e/docs-snippets.test.ts) or says why it cannot.
import { describe, expect, it } from 'vitest';
import {
  docPages,
  shellBlocks,
  snippets,
  strayMarkers,
  VAULT_SETUP,
} from '../harness/doc-snippets.js';

describe('documentation snippets', () => {
  it.each(docPages())('%s: every Vault setup block is marked', (page) => {
    const unmarked = shellBlocks(page)
      .filter((b) => VAULT_SETUP.test(b.code) && !b.marker)
      .map((b) => `${b.file}:${b.line}`);
    expect(unmarked, 'add <!-- snippet: NAME --> (or <!-- not-run: why -->) before').toEqual([]);
    expect(strayMarkers(page), 'markers must stand right before a sh fence').toEqual([]);
  });

  it('names every snippet once, and says why a block does not run', () => {
    const names = snippets().map((s) => s.name);
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-z0-9-]+$/);
    const notRun = docPages()
      .flatMap(shellBlocks)
      .filter((b) => b.marker?.kind === 'not-run');
    for (const b of notRun)
      expect(b.marker?.value.length, `${b.file}:${b.line}`).toBeGreaterThan(20);
  });

  it('finds a marker-less Vault command (the guard can fail)', () => {
    expect(VAULT_SETUP.test('printf \'%s\' "$P" | vault write dockerhub/config/u password=-')).toBe(
      true,
    );
    expect(VAULT_SETUP.test('vault login -method=oidc')).toBe(false);
  });
});
