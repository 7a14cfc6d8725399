// A TypeScript project as a user writes one (test/fixtures/ts-project): TaskRefs to its .ts modules,
// a vitest suite, a script run with tsx, the same script compiled by tsc. The package is packed and
// installed into a copy of the project as a user would install it, from a tarball.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/ts-project', import.meta.url));
// The project's commands run as a user's would: without the variables that the outer vitest and
// `npm test` set for this repository.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(VITEST|npm_)/i.test(key)));
const schedulers = ['task', 'sync', 'thread', 'process'];
const scored = schedulers.map((scheduler) => `${scheduler} [3,6,9]`);

describe('a TypeScript project using .ts TaskRefs', () => {
  let dir: string;
  const run = (file: string, args: string[]) => exec(file, args, { cwd: dir, env, maxBuffer: 16 << 20 });
  const bin = (name: string) => join(dir, 'node_modules', '.bin', name);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rxjs-parallel-ts-project-'));
    cpSync(fixture, dir, { recursive: true, filter: (path) => !/[\\/](node_modules|dist)$/.test(path) });
    const { stdout } = await exec('npm', ['pack', '--pack-destination', dir, '--json'], { cwd: root, env });
    const tarball = join(dir, JSON.parse(stdout)[0].filename);
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball]);
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes its vitest suite: the .ts TaskRef runs on all four schedulers', async () => {
    const report = join(dir, 'vitest-report.json');
    await run(bin('vitest'), ['run', '--reporter=json', `--outputFile=${report}`]);
    const { numPassedTests, numFailedTests, testResults } = JSON.parse(readFileSync(report, 'utf8'));
    const titles = testResults.flatMap((file: { assertionResults: { fullName: string }[] }) => file.assertionResults.map((test) => test.fullName));
    expect(titles).toHaveLength(12);
    for (const scheduler of schedulers) expect(titles).toContain(`a TaskRef to a .ts module on ${scheduler} runs`);
    expect({ numPassedTests, numFailedTests }).toEqual({ numPassedTests: 12, numFailedTests: 0 });
  }, 120_000);

  it('runs its script with tsx', async () => {
    const { stdout } = await run(bin('tsx'), ['src/main.ts']);
    expect(stdout.trim().split('\n')).toEqual(scored);
  }, 120_000);

  it('runs its script compiled by tsc, with the same TaskRefs', async () => {
    await run(bin('tsc'), ['-p', '.']);
    const { stdout } = await run(process.execPath, ['dist/main.js']);
    expect(stdout.trim().split('\n')).toEqual(scored);
  }, 120_000);
});

describe('docs/workers.md', () => {
  // Its TypeScript snippets are excerpts of the fixture project, marked `<!-- excerpt: path -->`.
  const doc = readFileSync(join(root, 'docs/workers.md'), 'utf8');
  const excerpts = [...doc.matchAll(/<!-- excerpt: (\S+) -->\n```ts\n([\s\S]*?)```/g)];

  it('quotes the fixture project', () => {
    expect(excerpts.length).toBeGreaterThan(0);
  });

  for (const [i, [, file, code]] of excerpts.entries()) {
    it(`excerpt ${i + 1} is in ${file}`, () => {
      expect(readFileSync(join(root, file), 'utf8')).toContain(code);
    });
  }
});
