// The app-owned worker file. The bundler sees `new Worker(new URL('./app.worker.ts', …))` in
// main.ts and bundles this file with everything it imports, rxjs-parallel's worker side included.
// expose() registers the functions by name and, in a worker, serves the thread scheduler's pool.
import { expose } from 'rxjs-parallel/worker';
import { connect, score, scoreOrFail } from './score.js';

expose({ score, scoreOrFail, connect });
