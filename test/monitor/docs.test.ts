// docs/monitoring.md cannot drift from the code: its sample report has the shape of a real one, its
// progress frames the grammar of the renderer, and the Monitor's JSDoc example prints what it says.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { filterParallel, fromIterable, mapParallel, Monitor, run } from 'rxjs-parallel';

const doc = readFileSync(fileURLToPath(new URL('../../docs/monitoring.md', import.meta.url)), 'utf8');

/** The keys of a value, recursively, with arrays reduced to their first element. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return [shape(value[0])];
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
  }
  return value === null ? 'null' : typeof value;
}

describe('docs/monitoring.md', () => {
  it('shows a sample report with the shape of a real one', async () => {
    const sample = JSON.parse(doc.match(/```json\n([\s\S]*?)```/)![1]);
    const monitor = new Monitor();
    await run(fromIterable([1, 2, 3]).pipe(mapParallel(async (x: number) => x, { monitor })));
    expect(shape(sample)).toEqual(shape(monitor.report()));
    for (const s of sample.stages) expect(s.in).toBe(s.out + s.filtered + s.failed + s.dropped + s.cancelled);
  });

  it('shows progress frames the renderer draws', () => {
    const frames = [...doc.matchAll(/```text\n([\s\S]*?)```/g)].map((m) => m[1]).filter((t) => t.includes('█'));
    expect(frames).toHaveLength(2);
    for (const line of frames.join('').trim().split('\n')) {
      expect(line).toMatch(/^\S+ +\[[█░]{30}\] +\d+%  \d+\/\d+  [\d.]+k?\/s  (ETA \d+:\d\d|done)$/);
    }
  });
});

describe('the Monitor JSDoc example', () => {
  it('prints what it says', async () => {
    const monitor = new Monitor();
    await run(
      fromIterable([1, 2, 3, 4]).pipe(
        mapParallel(async (x: number) => x * 2, { workers: 2, monitor, name: 'double' }),
        filterParallel(async (x: number) => x > 4, { monitor, name: 'big' }),
      ),
    );
    expect(monitor.report().stages.map((s) => [s.name, s.in, s.out, s.filtered])).toEqual([
      ['double', 4, 4, 0],
      ['big', 4, 2, 2],
    ]);
  });
});
