// The file a Node worker thread of threadScheduler() runs: the runtime on the thread's parentPort.
import { parentPort } from 'node:worker_threads';
import { nodeThreadPort } from './ports.js';
import { serve } from './runtime.js';

if (!parentPort) throw new Error('rxjs-parallel: node-thread-entry.cjs runs in a worker thread only');
serve(nodeThreadPort(parentPort));
