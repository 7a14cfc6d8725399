// `npm run bench:quick` as a smoke test: every scenario of the benchmark suite runs, tiny, in a
// child process, and every library it measured returned the right elements. Timing is never
// asserted here: on a shared machine it means nothing at this size.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const exec = promisify(execFile);

interface QuickRow {
  id: string;
  skipped?: string;
  ok: boolean;
  counts: string[];
}

describe('bench:quick', () => {
  it('runs every scenario, and every library returns every element', { timeout: 240_000 }, async () => {
    // npm test has built dist/, which the benchmarks import.
    const { stdout } = await exec(process.execPath, ['bench/run.mjs', '--quick'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    const ids = ['dispatch', 'engine', 'cpu', 'long', 'memory', 'pipeline', 'startup', 'nats'];
    for (const id of ids) expect(stdout).toContain(`scenario ${id}: ok`);
    const json = stdout.split('\n').find((line) => line.startsWith('@@bench-json '));
    expect(json).toBeDefined();
    const scenarios: { id: string; rows: QuickRow[] }[] = JSON.parse(json!.slice('@@bench-json '.length));
    expect(scenarios.map((s) => s.id)).toEqual(ids);
    const rowsOf = (id: string) => scenarios.find((s) => s.id === id)!.rows.map((row) => row.id);
    // The rows each scenario must have; below, a skipped row fails unless a scheduler is missing.
    expect(rowsOf('dispatch')).toEqual(expect.arrayContaining(['effect', 'p-map', 'readable-map', 'engine']));
    expect([...rowsOf('engine')].sort()).toEqual(['engine', 'engine-baseline']);
    expect(rowsOf('memory')).toEqual(expect.arrayContaining(['effect', 'p-map', 'readable-map']));
    expect(rowsOf('cpu')).toEqual(expect.arrayContaining(['sequential', 'thread-w1', 'process-w1', 'piscina-w1', 'raw-fork-w1']));
    const long = ['8x60', '2x600'].flatMap((shape) =>
      ['warm', 'cold'].flatMap((mode) => ['thread', 'piscina', 'process', 'fork'].map((lib) => `${shape}-${lib}-${mode}`)),
    );
    expect(rowsOf('long').sort()).toEqual(long.sort());
    expect(rowsOf('nats').sort()).toEqual(['ours-b100', 'ours-b100-deep', 'ours-crash', 'ours-tiny', 'raw-b100', 'raw-crash', 'raw-tiny']);
    for (const scenario of scenarios) {
      const measured = scenario.rows.filter((row) => !row.skipped);
      expect(measured.length, scenario.id).toBeGreaterThan(0);
      for (const row of measured) {
        expect(row.ok, `${scenario.id}/${row.id}`).toBe(true);
        for (const count of row.counts) {
          // "done/expected", or (memory: as many as fit the time budget) "done"
          const [done, expected] = count.split('/').map(Number);
          expect(done, `${scenario.id}/${row.id}`).toBeGreaterThan(0);
          if (expected !== undefined) expect(done, `${scenario.id}/${row.id}`).toBe(expected);
        }
      }
      // Ours is always measured: the task scheduler always is, the others once they exist.
      for (const row of scenario.rows) if (row.skipped) expect(row.skipped).toMatch(/^(thread|process) scheduler not available$/);
    }
    // The report is rendered (printed, not written): a section per scenario and the targets table,
    // and every target names rows that were measured (a target left pending names a row that is not).
    expect(stdout).toContain('### Targets');
    for (const title of ['Dispatch cost', 'CPU-bound speed-up and scaling', 'Few long elements', 'Memory under a fast producer', 'NATS JetStream']) {
      expect(stdout).toMatch(new RegExp(`^### \\d+\\. ${title}$`, 'm'));
    }
    const targetsLine = stdout.split('\n').find((line) => line.startsWith('@@bench-targets '));
    expect(targetsLine).toBeDefined();
    const targets: { label: string; status: string }[] = JSON.parse(targetsLine!.slice('@@bench-targets '.length));
    expect(targets.length).toBeGreaterThanOrEqual(16);
    for (const t of targets) expect(['met', 'missed'], t.label).toContain(t.status);
  });

  it('bench/nats-depth.mjs measures every prefetch it is given beside the raw harness (each returns every element)', { timeout: 120_000 }, async () => {
    const { stdout } = await exec(process.execPath, ['bench/nats-depth.mjs', '--prefetch=0,256', '--rounds=1', '--n=2000'], { cwd: root });
    // One table row per configuration, with its depth: 2 slots × (a batch of 100 + prefetch in whole batches).
    expect(stdout).toMatch(/^\| `0` \| 200 \| [\d,]+ \([\d,]+–[\d,]+\) \| \d+\.\d\d× \|$/m);
    expect(stdout).toMatch(/^\| `256` \| 800 \| [\d,]+ /m);
    expect(stdout).toMatch(/^\| raw harness \(8 jobs\) \| 800 \| [\d,]+ .* \| 1\.00× \|$/m);
  });

  it('bench/entry-load.mjs starts a thread on each form of the worker entry (each says hello)', { timeout: 60_000 }, async () => {
    const { stdout } = await exec(process.execPath, ['bench/entry-load.mjs', '--samples=1'], { cwd: root });
    const lines = stdout.split('\n');
    for (const form of ['bare thread', 'ES modules (node-thread-entry.js)', 'one CommonJS bundle (node-thread-entry.cjs)']) {
      const line = lines.find((l) => l.startsWith(form));
      expect(line, form).toMatch(/: median \d+\.\d ms/);
    }
  });
});
