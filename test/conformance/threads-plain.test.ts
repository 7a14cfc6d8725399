// The conformance suite on threadsScheduler over plain threads.js workers (expose({ ... }) with no
// parallelTasks()): each function gets the element alone. The cases that need more than that are
// skipped, each with the reason.
import { spawn, Worker } from 'threads';
import { task } from 'rxjs-parallel';
import { threadsScheduler } from 'rxjs-parallel/threads';
import { conformance, STREAMING_CASES } from './suite.js';

const NO_STREAMING = 'a threads.js call answers once: a flatMap element\'s outputs come back whole, after its inner source has ended, and an endless one never does';

// threads.js resolves a Worker path against the file that constructs it: this one.
const make = () => threadsScheduler({ spawn: () => spawn(new Worker('../fixtures/threads/conformance-plain.worker.mjs')), workers: 2 });

const RESOURCES = 'onStart and onEnd run in a threads.js worker only through parallelTasks() (test/conformance/threads.test.ts)';
const SIGNAL = 'a plain threads.js call gets the element alone: no ctx.signal to abort (threads.js cannot cancel a call that returns a promise)';

conformance('threads-plain', make, {
  scheduler: make,
  ref: (ref) => task(ref.exportName),
  skip: {
    ...Object.fromEntries(STREAMING_CASES.map((title) => [title, NO_STREAMING])),
    'completes on an empty source, running onStart and onEnd in each worker': RESOURCES,
    'runs onStart once per worker with workerInfo.index 0..workers-1, and its resources reach fn': RESOURCES,
    'shows stageStatus.done to exactly the last onEnd': RESOURCES,
    'fails with StageError(onStart) when onStart throws': RESOURCES,
    'fails with StageError(onEnd) when onEnd throws, after every onEnd ran': RESOURCES,
    "passes the source's error through as is, after every onEnd ran": RESOURCES,
    'flatMapOrdered keeps source order with multi-level elementIndex': 'a plain threads.js call gets the element alone: no ctx.elementIndex',
    'fails with a StageError wrapping what fn threw, its class, message and cause':
      "threads.js's own serializer keeps a thrown error's name, message and stack only (no cause, no code); parallelTasks() keeps them",
    'fails a late element with TaskTimeoutError and aborts its signal': SIGNAL,
    "with onError: 'skip' drops the late element (pypeln's timeout)": SIGNAL,
    'with a function replaces the late element': SIGNAL,
    'take(n) stops fn calls, aborts calls in work and runs each onEnd once': SIGNAL,
    'unsubscribe mid-stream does the same and emits nothing more': SIGNAL,
  },
});
