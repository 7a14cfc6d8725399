// The file a child process of processScheduler() runs: the runtime on the IPC channel.
import { childProcessPort } from './ports.js';
import { serve } from './runtime.js';

if (!process.send) throw new Error('rxjs-parallel: node-process-entry.cjs runs in a forked child process only');
serve(childProcessPort(process));
