// Whose fault a worker's death is, when the worker said as it exited (DYING) that no call was
// running and none was in work: then no job it was sent is to blame. A job still on its way to it
// never ran; a call that left a throwing timer behind had been answered already. A real worker
// cannot be made to exit at the one moment a job is on its way without a race, so the worker here
// is a script that speaks the worker protocol: it answers element 0, and exits (saying it had
// nothing in work) the moment element 1 reaches it. The pool must send element 1 again, not fail it.
import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { lastValueFrom, toArray } from 'rxjs';
import { fromIterable, mapParallel, threadScheduler, type WorkerLike } from 'rxjs-parallel';
import { CLOSE, DYING, END, ENDED, ENDING, HELLO, R_OK, RESULTS, RUN, RUN_NUMBERS, RUN_RANGE, START, STARTED } from '../../src/worker/protocol.js';

/** The jobs of a RUN, RUN_RANGE or RUN_NUMBERS message, as [seq, value] pairs. */
function jobsOf(message: unknown[]): Array<[number, unknown]> {
  const jobs: Array<[number, unknown]> = [];
  if (message[0] === RUN) for (let i = 2; i < message.length; i += 3) jobs.push([message[i] as number, message[i + 1]]);
  else if (message[0] === RUN_RANGE) for (let i = 4; i < message.length; i++) jobs.push([(message[2] as number) + i - 4, message[i]]);
  else for (const [i, v] of [...(message[4] as Float64Array)].entries()) jobs.push([(message[2] as number) + i, v]);
  return jobs;
}

/**
 * A worker that runs `x => x` by the protocol. `dieOn`: the element index whose arrival makes it
 * exit at once, after a DYING that names no call running and none in work.
 */
function scriptedWorker(dieOn: number | undefined, log: string[]): WorkerLike {
  const events = new EventEmitter();
  const send = (message: unknown[]) => queueMicrotask(() => events.emit('message', message));
  let exited = false;
  const exit = (code: number) => {
    if (exited) return;
    exited = true;
    queueMicrotask(() => events.emit('exit', code));
  };
  setImmediate(() => events.emit('message', [HELLO])); // a turn later, as a real worker's: the pool has its endpoint by then
  return {
    on: (event: string, listener: (...args: any[]) => void) => events.on(event, listener),
    terminate: () => exit(1),
    postMessage(message: unknown) {
      const m = message as unknown[];
      if (exited) return;
      switch (m[0]) {
        case START:
          return send([STARTED, m[1]]);
        case RUN:
        case RUN_RANGE:
        case RUN_NUMBERS: {
          const jobs = jobsOf(m);
          if (jobs.some(([, value]) => value === dieOn)) {
            log.push(`died on receiving ${jobs.map(([, v]) => v).join(',')}`);
            send([DYING, null, [], undefined]);
            return exit(1);
          }
          return send([RESULTS, m[1], ...jobs.flatMap(([seq, value]) => [seq, R_OK, value])]);
        }
        case END:
          send([ENDING, m[1], []]);
          return send([ENDED, m[1], undefined]);
        case CLOSE:
          return exit(0);
      }
    },
  };
}

describe('thread scheduler: a worker that exits with nothing in work', () => {
  it('blames no job it was sent: the one on its way is sent again, and every element comes once', async () => {
    const log: string[] = [];
    let made = 0;
    // One job at a time (prefetch 0), so that element 1 is the only job unanswered when it exits.
    const scheduler = threadScheduler({ workers: 1, prefetch: 0, createWorker: () => scriptedWorker(made++ === 0 ? 1 : undefined, log) });
    try {
      const out = await lastValueFrom(fromIterable([0, 1, 2, 3]).pipe(mapParallel((x: number) => x, { scheduler, batchSize: 1 }), toArray()));
      expect(log).toEqual(['died on receiving 1']);
      expect(made).toBe(2);
      expect([...out].sort()).toEqual([0, 1, 2, 3]);
    } finally {
      await scheduler.close();
    }
  });
});
