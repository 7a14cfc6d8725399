// The conformance suite, unchanged, with `partitionBy` set on every stage: per-key ordering must not
// change anything else a stage promises (on the task scheduler, and on threads).
import { taskScheduler, threadScheduler } from 'rxjs-parallel';
import { conformance } from './suite.js';

/** Three keys, from the element's number (or its `i`); elements without one share key 0. */
const partitionBy = (v: unknown) => {
  const n = typeof v === 'number' ? v : typeof v === 'object' && v !== null && typeof (v as { i?: unknown }).i === 'number' ? (v as { i: number }).i : 0;
  return n % 3;
};

conformance('task, partitionBy', () => taskScheduler(), { like: 'task', options: { partitionBy } });
conformance('thread, partitionBy', () => threadScheduler({ workers: 2 }), { like: 'thread', options: { partitionBy } });
