// The app-owned worker file: the app's bundler sees `new Worker(new URL('./app.worker.ts', …))`
// in main.ts and bundles this file with everything it imports, the library's worker side included.
import { expose } from 'rxjs-parallel/worker';
import { inWorker, score } from './score.js';

expose({ score });

// Until the thread scheduler's worker runtime lands, a hello answers the page, proving that the
// worker was bundled, started as a module worker, and loaded rxjs-parallel/worker.
self.addEventListener('message', (event: MessageEvent) => {
  if (event.data === 'hello') self.postMessage({ hello: 'from app.worker', inWorker: inWorker() });
});
