// The conformance suite on threadsScheduler over threads.js workers whose file exposes the suite's
// functions through parallelTasks(): (value, ctx), onStart/onEnd in the worker, abortable calls.
import { spawn, Worker } from 'threads';
import { task } from 'rxjs-parallel';
import { threadsScheduler } from 'rxjs-parallel/threads';
import { conformance, STREAMING_CASES } from './suite.js';

const NO_STREAMING = 'a threads.js call answers once: a flatMap element\'s outputs come back whole, after its inner source has ended, and an endless one never does';

// threads.js resolves a Worker path against the file that constructs it: this one.
const make = () => threadsScheduler({ spawn: () => spawn(new Worker('../fixtures/threads/conformance.worker.mjs')), workers: 2 });

conformance('threads', make, {
  scheduler: make,
  ref: (ref) => task(ref.exportName),
  skip: Object.fromEntries(STREAMING_CASES.map((title) => [title, NO_STREAMING])),
});
