// The engine's two hand-made containers must behave exactly as the plain ones they stand in for:
// the Ring (a FIFO/deque, masked positions) as an array, and a lease's JobTable (jobs by seq in a
// ring window, out-of-order ones in a Map) as `Map<number, Job>`, insertion order included. Random
// operation sequences, shaped like what the engine does (rising seqs in runs, holes left by other
// workers, retries of old seqs, growth past the ring), are replayed on both and compared after
// every step.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Ring } from '../../src/backpressure/ring.js';
import { JobTable } from '../../src/schedulers/job-table.js';

type Job = { readonly seq: number; readonly tag: number };

const ringOp = fc.oneof(
  fc.record({ op: fc.constant('push' as const), v: fc.integer() }),
  fc.record({ op: fc.constant('unshift' as const), v: fc.integer() }),
  fc.record({ op: fc.constant('pushMany' as const), v: fc.integer(), n: fc.integer({ min: 1, max: 70 }) }),
  fc.constant({ op: 'shift' as const }),
  fc.constant({ op: 'pop' as const }),
  fc.constant({ op: 'clear' as const }),
);

describe('Ring', () => {
  it('behaves as an array used as a deque', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(ringOp, { maxLength: 300 }), (capacity, ops) => {
        const ring = new Ring<number>(capacity);
        const model: number[] = [];
        for (const step of ops) {
          switch (step.op) {
            case 'push':
              ring.push(step.v);
              model.push(step.v);
              break;
            case 'unshift':
              ring.unshift(step.v);
              model.unshift(step.v);
              break;
            case 'pushMany':
              for (let i = 0; i < step.n; i++) {
                ring.push(step.v + i);
                model.push(step.v + i);
              }
              break;
            case 'shift':
              expect(ring.shift()).toBe(model.shift());
              break;
            case 'pop':
              expect(ring.pop()).toBe(model.pop());
              break;
            case 'clear':
              ring.clear();
              model.length = 0;
              break;
          }
          expect(ring.length).toBe(model.length);
          expect(ring.peek()).toBe(model[0]);
          expect(ring.peekLast()).toBe(model[model.length - 1]);
        }
        const rest: number[] = [];
        while (ring.length > 0) rest.push(ring.shift()!);
        expect(rest).toEqual(model);
      }),
      { numRuns: 300 },
    );
  });
});

// Seqs as a lease sees them: a run of consecutive seqs (a batch), a jump over other workers' seqs,
// an old seq again (a retry or work given back), a seq far ahead (past the ring's span); results
// that take one seq out, in any order; a clear (the lease ended or broke).
const tableOp = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('run' as const), gap: fc.integer({ min: 0, max: 600 }), n: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('old' as const), back: fc.integer({ min: 1, max: 2000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('far' as const), ahead: fc.integer({ min: 60_000, max: 200_000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('again' as const), pick: fc.nat() }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('take' as const), pick: fc.nat(), n: fc.integer({ min: 1, max: 200 }), oldest: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('miss' as const), seq: fc.integer({ min: -5, max: 400_000 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
);

describe('JobTable', () => {
  it('behaves as a Map<number, Job>, in insertion order', () => {
    fc.assert(
      fc.property(fc.array(tableOp, { maxLength: 120 }), (ops) => {
        const table = new JobTable<Job>();
        const model = new Map<number, Job>();
        let next = 0;
        let tag = 0;
        const add = (seq: number) => {
          const job = { seq, tag: tag++ };
          table.add(job);
          model.set(seq, job);
        };
        for (const step of ops) {
          switch (step.op) {
            case 'run':
              next += step.gap;
              for (let i = 0; i < step.n; i++) add(next++);
              break;
            case 'old':
              add(Math.max(0, next - step.back));
              break;
            case 'far':
              next += step.ahead;
              add(next++);
              break;
            case 'again': {
              // A seq it holds, given again (Map#set replaces it, keeping its place).
              const keys = [...model.keys()];
              if (keys.length > 0) add(keys[step.pick % keys.length]);
              break;
            }
            case 'take': {
              const keys = [...model.keys()];
              for (let i = 0; i < step.n && keys.length > 0; i++) {
                const seq = step.oldest ? keys.shift()! : keys.splice((step.pick + i * 7) % keys.length, 1)[0];
                expect(table.take(seq)).toBe(model.get(seq));
                model.delete(seq);
              }
              break;
            }
            case 'miss':
              expect(table.get(step.seq)).toBe(model.get(step.seq));
              expect(table.has(step.seq)).toBe(model.has(step.seq));
              expect(table.delete(step.seq)).toBe(model.delete(step.seq));
              break;
            case 'clear':
              table.clear();
              model.clear();
              break;
          }
          expect(table.size).toBe(model.size);
          expect(table.values()).toEqual([...model.values()]);
          expect(table.keys()).toEqual([...model.keys()]);
        }
        for (const [seq, job] of model) expect(table.get(seq)).toBe(job);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the worker protocol', () => {
  it('gives every message kind a code of its own', async () => {
    const protocol = await import('../../src/worker/protocol.js');
    const kinds = ['HELLO', 'START', 'STARTED', 'START_FAILED', 'RUN', 'RESULTS', 'CANCEL', 'END', 'ENDED', 'CLOSE', 'RUN_RANGE', 'RESULTS_RANGE', 'ENDING', 'RECLAIM', 'RECLAIMED', 'PULL', 'DYING', 'RUN_NUMBERS', 'RESULTS_NUMBERS'] as const;
    const codes = kinds.map((kind) => (protocol as Record<string, unknown>)[kind]);
    for (const code of codes) expect(typeof code).toBe('number');
    expect(new Set(codes).size).toBe(kinds.length);
    // Every exported message code is in the list above (a new kind must be added to it).
    const exported = Object.entries(protocol).filter(([name, v]) => typeof v === 'number' && /^[A-Z_]+$/.test(name) && !/^(R_|ON_|MIN_|OUTPUT_)/.test(name));
    expect(exported.map(([name]) => name).sort()).toEqual([...kinds].sort());
  });
});
