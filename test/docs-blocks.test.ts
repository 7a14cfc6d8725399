// Every code block in README.md and docs/ is run by a test (an example: the file's whole text), is
// an excerpt of a file a test runs, or is marked as a fragment: none can drift unseen.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pages = ['README.md', ...readdirSync(`${root}/docs`).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe.each(pages)('%s', (page) => {
  const lines = readFileSync(`${root}/${page}`, 'utf8').split('\n');
  const blocks: Array<{ line: number; marker: string }> = [];
  let open = false;
  lines.forEach((text, i) => {
    if (!text.startsWith('```')) return;
    if (!open) blocks.push({ line: i + 1, marker: lines[i - 1] ?? '' });
    open = !open;
  });

  it('marks every code block as an example, an excerpt, a command or a fragment', () => {
    for (const { line, marker } of blocks) {
      expect(marker, `${page}:${line}`).toMatch(/^<!-- (example|excerpt|command|fragment)\b/);
    }
  });

  it('names files that exist in its example and excerpt markers', () => {
    for (const { marker } of blocks) {
      const file = marker.match(/^<!-- (?:example|excerpt): (\S+) -->/)?.[1];
      if (file) expect(existsSync(`${root}/${file}`), file).toBe(true);
    }
  });
});
