// docs/workers.md's example is examples/workers/index.mjs, run here, so the page cannot drift from it.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const exec = promisify(execFile);

describe('docs/workers.md', () => {
  const page = readFileSync(`${root}/docs/workers.md`, 'utf8');
  const blocks = [...page.matchAll(/<!-- example: (\S+) -->\n```js\n([\s\S]*?)```/g)];

  it('has a runnable example', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  for (const [, file, code] of blocks) {
    it(`${file} is the page's code, and prints what it says`, async () => {
      expect(readFileSync(`${root}/${file}`, 'utf8')).toBe(code);
      const { stdout } = await exec(process.execPath, [`${root}/${file}`], { cwd: root });
      const promised = code.match(/\/\/ (.+) \(one per line\)\n$/)?.[1];
      expect(promised).toBeDefined();
      expect(stdout.trim().split('\n').join(' ')).toBe(promised);
    });
  }
});
