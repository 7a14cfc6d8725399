// The conformance suite on threadsScheduler over threads.js workers whose file exposes the suite's
// functions through parallelTasks(): (value, ctx), onStart/onEnd in the worker, abortable calls.
import { spawn, Worker } from 'threads';
import { task } from 'rxjs-parallel';
import { threadsScheduler } from 'rxjs-parallel/threads';
import { conformance } from './suite.js';

// threads.js resolves a Worker path against the file that constructs it: this one.
const make = () => threadsScheduler({ spawn: () => spawn(new Worker('../fixtures/threads/conformance.worker.mjs')), workers: 2 });

conformance('threads', make, { scheduler: make, ref: (ref) => task(ref.exportName) });
