// transfer(): buffers move to and from a thread without a copy; a process gets a copy.
import { describe, expect, it } from 'vitest';
import { from, lastValueFrom, of, toArray } from 'rxjs';
import { InvalidOptionError, mapParallel, processScheduler, task, taskScheduler, threadScheduler, transfer } from 'rxjs-parallel';
import { transfer as workerTransfer } from 'rxjs-parallel/worker';

const fixture = new URL('../fixtures/workers.mjs', import.meta.url);
const measure = task<{ bytes: Uint8Array }, { length: number; first: number; last: number }>(fixture, 'measure');
const makeBytes = task<number, Uint8Array>(fixture, 'makeBytes');
const keptLength = task<unknown, number>(fixture, 'keptLength');

describe('transfer()', () => {
  it('returns the value itself, so a marked value runs unchanged on any scheduler', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const value = { bytes };
    expect(transfer(value, [bytes.buffer])).toBe(value);
    expect(workerTransfer).toBe(transfer);
    const out = await lastValueFrom(of(transfer({ bytes }, [bytes])).pipe(mapParallel(measure, { scheduler: taskScheduler() })));
    expect(out).toEqual({ length: 3, first: 1, last: 3 });
    expect(bytes.byteLength).toBe(3); // in-process: nothing moves
  });

  it('validates its arguments', () => {
    expect(() => transfer(1 as any, [])).toThrow(InvalidOptionError);
    expect(() => transfer({}, 'x' as any)).toThrow(InvalidOptionError);
  });

  it('thread: an element moves to the worker; the sender is left with a detached buffer', async () => {
    const bytes = new Uint8Array(1 << 16).fill(5);
    const out = await lastValueFrom(of(transfer({ bytes }, [bytes.buffer])).pipe(mapParallel(measure, { scheduler: 'thread' })));
    expect(out).toEqual({ length: 1 << 16, first: 5, last: 5 });
    expect(bytes.byteLength).toBe(0);
    expect(bytes.buffer.byteLength).toBe(0);
  });

  it('thread: a typed array in the list moves its buffer; unmarked elements are copied', async () => {
    const moved = new Uint8Array(8).fill(1);
    const copied = new Uint8Array(8).fill(2);
    const out = await lastValueFrom(
      from([transfer({ bytes: moved }, [moved]), { bytes: copied }]).pipe(mapParallel(measure, { scheduler: 'thread', ordered: true, batchSize: 2 }), toArray()),
    );
    expect(out.map((r) => r.first)).toEqual([1, 2]);
    expect(moved.byteLength).toBe(0);
    expect(copied.byteLength).toBe(8);
  });

  it('thread: a result moves back; the worker is left with a detached buffer', async () => {
    const pool = threadScheduler({ workers: 1 });
    try {
      const bytes = await lastValueFrom(of(1 << 12).pipe(mapParallel(makeBytes, { scheduler: pool })));
      expect(bytes).toBeInstanceOf(Uint8Array);
      expect(bytes.byteLength).toBe(1 << 12);
      expect(bytes[0]).toBe(7);
      // Asked in the same worker (a pool of one): what it returned was moved, not copied.
      expect(await lastValueFrom(of(0).pipe(mapParallel(keptLength, { scheduler: pool })))).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('process: transfer degrades to a copy in both directions', async () => {
    const pool = processScheduler({ workers: 1 });
    try {
      const bytes = new Uint8Array(64).fill(3);
      const out = await lastValueFrom(of(transfer({ bytes }, [bytes.buffer])).pipe(mapParallel(measure, { scheduler: pool })));
      expect(out).toEqual({ length: 64, first: 3, last: 3 });
      expect(bytes.byteLength).toBe(64);
      const back = await lastValueFrom(of(32).pipe(mapParallel(makeBytes, { scheduler: pool })));
      expect(back.byteLength).toBe(32);
      expect(await lastValueFrom(of(0).pipe(mapParallel(keptLength, { scheduler: pool })))).toBe(32);
    } finally {
      await pool.close();
    }
  });
});
