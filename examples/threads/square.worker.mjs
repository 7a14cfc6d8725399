// A threads.js worker as an app already has it: plain threads.js, nothing of rxjs-parallel.
import { expose } from 'threads/worker';

expose({ square: (x) => x * x });
