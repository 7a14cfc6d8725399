// Every example of examples/seeds/ (the systems this library replaces, ported) runs here, in a
// fresh Node process, and prints what it says. Where a result depends on timing (completion order,
// measured latencies) the test checks what holds whatever the timing: the set of values, the bounds.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runNode } from './support/util.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const seeds = new URL('../examples/seeds/', import.meta.url);

async function runSeed(file: string): Promise<string[]> {
  const { code, stdout, stderr } = await runNode(new URL(file, seeds));
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return stdout.trimEnd().split('\n');
}

/** The line that starts with `label: `, without the label. */
function after(lines: string[], label: string): string {
  const line = lines.find((l) => l.startsWith(`${label}: `));
  expect(line, `a line starting with "${label}: "`).toBeDefined();
  return line!.slice(label.length + 2);
}

/** `[5, 6, 9]` or `5, 6, 9` or `5 6 9` as numbers. */
const numbers = (text: string) => text.replace(/[[\]]/g, '').split(/[ ,]+/).filter(Boolean).map(Number);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe('examples/seeds', () => {
  it('has one example per seed system, each run below', () => {
    const files = readdirSync(seeds).filter((f) => f.endsWith('.mjs') && !f.endsWith('-tasks.mjs'));
    expect(files.sort()).toEqual(['async-flow.mjs', 'async-task-pipeline.mjs', 'pypeln.mjs', 'statefun.mjs']);
  });

  it('pypeln.mjs: Basic and Advanced Usage on processes, threads and tasks', async () => {
    const lines = await runSeed('pypeln.mjs');
    const slowAdd1ThenGt3 = [4, 5, 6, 7, 8, 9, 10];
    // Completion order varies (pypeln: "e.g. [5, 6, 9, 4, 8, 10, 7]"); the elements do not.
    for (const label of ['process', 'thread', 'task', 'await', 'pipe', 'async for']) {
      expect(sorted(numbers(after(lines, label))), label).toEqual(slowAdd1ThenGt3);
    }
    expect(after(lines, 'mixed')).toBe('[0, 0, 1, 4, 9, 16, 25, 36, 49, 64, 81]');
    expect(sorted(numbers(after(lines, 'for x in stage')))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(after(lines, 'ordered')).toBe('1, 2, 3, 4, 5, 6, 7, 8, 9, 10');
    // maxsize: a slow consumer holds the source back to workers + maxsize + 1.
    const [ahead] = after(lines, 'queues').match(/at most (\d+) read ahead/)!.slice(1).map(Number);
    expect(ahead).toBeLessThanOrEqual(3 + 4 + 1);
    // on_start / on_end: each of the 3 worker processes closed its own sessions, the last one with done: true.
    const onEnd = lines.filter((l) => l.startsWith('on_end: '));
    expect(onEnd.map((l) => l.replace(/ \(stage_status.*/, '')).sort()).toEqual([0, 1, 2].map((i) => `on_end: worker ${i} closed http-${i} and db-${i}`));
    expect(onEnd.filter((l) => l.endsWith('(stage_status.done: true)'))).toHaveLength(1);
    expect(lines.indexOf(onEnd.at(-1)!)).toBeLessThan(lines.findIndex((l) => l.startsWith('resources: '))); // before the stream completed
    expect(after(lines, 'resources')).toBe('[0, 10, 20, 30, 40, 50]');
    // Dependency injection: element_index grows a level through flat_map; worker_info; stage_status.
    const injected = lines.filter((l) => /^[ab][01]: /.test(l));
    expect(injected.map((l) => l.replace(/worker_info.index \d/, 'worker_info.index N'))).toEqual([
      'a0: element_index (0, 0), worker_info.index N of 2',
      'a1: element_index (0, 1), worker_info.index N of 2',
      'b0: element_index (1, 0), worker_info.index N of 2',
      'b1: element_index (1, 1), worker_info.index N of 2',
    ]);
    const status = lines.filter((l) => l.startsWith('on_end of worker')).map((l) => l.replace(/worker \d/, 'worker N'));
    expect(status.sort()).toEqual([
      'on_end of worker N: stage_status.done false, active_workers 1',
      'on_end of worker N: stage_status.done true, active_workers 0',
    ]);
    expect(after(lines, 'each + run')).toBe('[0, 1, 2]');
  });

  it('statefun.mjs: continuations, in_parallel, nesting, state, errors, orchestrators, recursion', async () => {
    const lines = await runSeed('statefun.mjs');
    expect(lines).toEqual([
      'continuation: 3',
      'in_parallel: [6,20]',
      'in_parallel + average: 13',
      'nested: 9.5',
      'max_parallelism: 100 results, sum 9900, at most 10 at once',
      'average std dev: 2.1100',
      'average std dev (stages): 2.1100',
      'state: 15',
      'exceptionally: 6; Exception: I am supposed to fail',
      'exceptionally ... finally_do: Value: Exception: I am supposed to fail (then cleanup)',
      'finally_do: 6, cleanup ran: true',
      'finally_do after an error: I am supposed to fail, cleanup ran: true',
      'parallel workflow: Hello John Smith; Hello Jane Doe. So now I will say see you later!',
      'parallel workflow with an error: I am supposed to fail; join_results called: false',
      'composition: 50',
      'conditional: 1',
      'recursion: 100',
      'recursion with expand: 100',
      'per element: [[6,5],[20,9],[42,13]]',
    ]);
  });

  it('async-flow.mjs: Layer(data_generator), Layer(work, 8), Layer(callback), with backpressure', async () => {
    const lines = await runSeed('async-flow.mjs');
    expect(lines.filter((l) => l === 'done')).toHaveLength(100); // the callback prints each result
    expect(after(lines, 'executor')).toBe('100 × done; the generator ran up to 100 items ahead of the callback (no backpressure)');
    const [results, ahead, bound, done, workers] = after(lines, 'async_flow')
      .match(/^(\d+) results; the generator ran at most (\d+) items ahead of the callback \(bound (\d+)\); work: (\d+) done by (\d+) workers$/)!
      .slice(1)
      .map(Number);
    expect([results, done, workers]).toEqual([100, 100, 8]);
    expect(ahead).toBeLessThanOrEqual(bound);
    expect(bound).toBe(8 + 8 + 1 + 2 + 1);
    // The progress bar's last frame (drawn into a captured terminal when stderr is not one).
    const frame = lines.slice(lines.indexOf('progress, last frame:') + 1, lines.indexOf('progress, last frame:') + 3);
    expect(frame.map((l) => l.replace(/[\d.]+k?\/s/, 'N/s'))).toEqual([
      `work     [${'█'.repeat(30)}] 100%  100/100  N/s  done`,
      `callback [${'█'.repeat(30)}] 100%  100/100  N/s  done`,
    ]);
  });

  it('async-task-pipeline.mjs: the Quick Start and example.py, with the latency summary', async () => {
    const lines = await runSeed('async-task-pipeline.mjs');
    expect(lines[0]).toBe('Processed 14 items'); // x * 2 > 10 for 6..19
    expect(lines[1]).toMatch(/^Average latency: \d+\.\d{3}s$/);
    expect(after(lines, 'results')).toBe('12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38');
    expect(after(lines, 'Time to first result')).toMatch(/^\d+\.\d\dms$/);
    expect(after(lines, 'End-to-end latency')).toMatch(/^\d+\.\d{3}s$/);
    expect(after(lines, 'Last result')).toMatch(/^chunk_49 -> Validate\[\d+\] -> Transform1\[\d+\] -> Transform2\[\d+\] -> Serialize\[\d+\]$/);
    expect(after(lines, 'Total items processed')).toBe('50');
    expect(after(lines, 'End-to-end latency p50 / p95 / p99 / max')).toMatch(/^(\d+\.\d\dms \/ ){3}\d+\.\d\dms$/);
    const stages = lines.filter((l) => /^ {2}\w+:$/.test(l)).map((l) => l.trim().slice(0, -1));
    expect(stages).toEqual(['DataValidation', 'Transform1', 'Transform2', 'Serialize']);
    expect(lines.filter((l) => l === '    Processed: 50 items')).toHaveLength(4);
  });
});

describe('docs/coming-from.md', () => {
  const doc = readFileSync(`${root}/docs/coming-from.md`, 'utf8');

  it('has a table for each seed system, pointing at its example', () => {
    for (const file of ['pypeln.mjs', 'statefun.mjs', 'async-flow.mjs', 'async-task-pipeline.mjs']) {
      expect(doc).toContain(`examples/seeds/${file}`);
    }
  });

  // Its code blocks are excerpts of the examples, marked `<!-- excerpt: path -->`: they must still be there.
  const blocks = [...doc.matchAll(/(<!-- excerpt: (\S+) -->\n)?```(\w+)\n([\s\S]*?)```/g)];
  it('marks every code block as an excerpt of an example (or as a fragment of the original system)', () => {
    for (const [, marker, , lang] of blocks) expect(marker !== undefined || lang === 'python', `a ${lang} block`).toBe(true);
  });
  for (const [i, [, , file, , code]] of blocks.filter(([, marker]) => marker).entries()) {
    it(`excerpt ${i + 1} is in ${file}`, () => {
      expect(readFileSync(`${root}/${file}`, 'utf8')).toContain(code);
    });
  }
});
