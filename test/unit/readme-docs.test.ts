// The README's Documentation list is where a newcomer finds every page: each page under docs/
// is linked there.
import { readdirSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

it('the README links every page under docs/', () => {
  const readme = readFileSync('README.md', 'utf8');
  const list = readme.slice(readme.indexOf('## Documentation'), readme.indexOf('## Contributing'));
  const pages = readdirSync('docs').filter((f) => f.endsWith('.md'));
  expect(pages.filter((p) => !list.includes(`(docs/${p})`))).toEqual([]);
});
