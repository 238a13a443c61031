// action.yml is the Action's contract: every input it declares is read, every input read is
// declared, everything is described, and the runner is told to run post always.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { INPUTS } from '../../src/action/inputs.js';

interface Metadata {
  name: string;
  description: string;
  author: string;
  branding: { icon: string; color: string };
  inputs: Record<string, { description?: string; default?: string; required?: boolean }>;
  outputs: Record<string, { description?: string }>;
  runs: { using: string; main: string; post: string; 'post-if': string };
}

const meta = parse(readFileSync('action.yml', 'utf8')) as Metadata;

describe('action.yml', () => {
  it('declares exactly the inputs the adapter reads', () => {
    expect(Object.keys(meta.inputs).sort()).toEqual([...INPUTS].sort());
  });

  it('describes every input and output, and outputs no secret', () => {
    for (const [name, i] of Object.entries(meta.inputs)) {
      expect(i.description?.length ?? 0, `input ${name}`).toBeGreaterThan(10);
    }
    expect(Object.keys(meta.outputs).sort()).toEqual(
      ['expires-at', 'lease-duration', 'lease-id', 'registries', 'registry', 'username'].sort(),
    );
    for (const [name, o] of Object.entries(meta.outputs)) {
      expect(o.description?.length ?? 0, `output ${name}`).toBeGreaterThan(10);
    }
  });

  it('runs main and post from dist on node24, post always', () => {
    expect(meta.runs).toEqual({
      using: 'node24',
      main: 'dist/main/index.js',
      post: 'dist/post/index.js',
      'post-if': 'always()',
    });
  });

  it('has complete Marketplace metadata', () => {
    expect(meta.name.length).toBeGreaterThan(0);
    expect(meta.author.length).toBeGreaterThan(0);
    // The Marketplace listing cuts descriptions longer than 125 characters.
    expect(meta.description.length).toBeLessThanOrEqual(125);
    expect(meta.description).not.toContain('\n');
    // GitHub's documented branding colours; the icon is one of the Feather icons GitHub accepts
    // (its list is a subset of Feather; these four are in it and fit what the Action does).
    expect([
      'white',
      'black',
      'yellow',
      'blue',
      'green',
      'orange',
      'red',
      'purple',
      'gray-dark',
    ]).toContain(meta.branding.color);
    expect(['lock', 'key', 'shield', 'log-in']).toContain(meta.branding.icon);
  });
});
