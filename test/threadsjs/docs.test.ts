// docs/integrations.md, threads.js section: its examples are files under examples/threads/, run here;
// its worker files are excerpts of those files; any other code block is marked as a fragment.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const exec = promisify(execFile);
const page = readFileSync(`${root}/docs/integrations.md`, 'utf8');
const start = page.indexOf('## threads.js');
const next = page.indexOf('\n## ', start + 1); // the section ends where the next one starts
const section = page.slice(start, next < 0 ? undefined : next);

describe('docs/integrations.md: threads.js', () => {
  const examples = [...section.matchAll(/<!-- example: (\S+) -->\n```js\n([\s\S]*?)```/g)];
  const excerpts = [...section.matchAll(/<!-- excerpt: (\S+) -->\n```js\n([\s\S]*?)```/g)];

  it('has runnable examples and excerpts, and marks every other code block as a fragment', () => {
    expect(examples.length).toBeGreaterThan(0);
    expect(excerpts.length).toBeGreaterThan(0);
    const blocks = section.match(/^```\w+$/gm) ?? [];
    const marked = section.match(/<!-- (?:example|excerpt): \S+ -->\n```\w+$|<!-- fragment -->\n```\w+$/gm) ?? [];
    expect(marked).toHaveLength(blocks.length);
  });

  for (const [, file, code] of excerpts) {
    it(`${file} is the page's excerpt`, () => {
      expect(readFileSync(`${root}/${file}`, 'utf8')).toBe(code);
    });
  }

  for (const [, file, code] of examples) {
    it(`${file} is the page's code, and prints what it says`, async () => {
      expect(readFileSync(`${root}/${file}`, 'utf8')).toBe(code);
      const { stdout } = await exec(process.execPath, [`${root}/${file}`], { cwd: root });
      const promised = code.match(/\/\/ (.+) \(one per line\)\n$/)?.[1];
      expect(promised).toBeDefined();
      expect(stdout.trim().split('\n').join(' ')).toBe(promised);
    });
  }
});
