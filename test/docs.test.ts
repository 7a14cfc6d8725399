// The README's examples are files under examples/, run here, so the README cannot drift from them.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const exec = promisify(execFile);

describe('README examples', () => {
  const readme = readFileSync(`${root}/README.md`, 'utf8');
  const blocks = [...readme.matchAll(/<!-- example: (\S+) -->\n```js\n([\s\S]*?)```/g)];

  it('has runnable examples', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  for (const [, file, code] of blocks) {
    it(`${file} is the README's code, and prints what it says`, async () => {
      expect(readFileSync(`${root}/${file}`, 'utf8')).toBe(code);
      const { stdout } = await exec(process.execPath, [`${root}/${file}`], { cwd: root });
      const promised = code.match(/\/\/ (.+) \(one per line\)\n$/)?.[1];
      expect(promised).toBeDefined();
      expect(stdout.trim().split('\n').join(' ')).toBe(promised);
    });
  }
});

describe('the quick-start demo', () => {
  it('prints its figures', async () => {
    const { stdout } = await exec(process.execPath, [`${root}/examples/quickstart/index.mjs`], { cwd: root });
    expect(stdout).toMatch(/workers {2}1: +\d+ items\/s/);
    expect(stdout).toMatch(/speed-up with 8 workers: [\d.]+×/);
    expect(stdout).toMatch(/monitor, 8 workers: lookup busy \d+ % of the time; a lookup waited [\d.]+ ms in its queue and ran [\d.]+ ms \(p50\)/);
    const [, ahead, bound] = stdout.match(/workers {2}8: .* at most (\d+) items read ahead of the consumer \(credit bound (\d+)\)/)!;
    expect(Number(ahead)).toBeLessThanOrEqual(Number(bound));
  });
});
