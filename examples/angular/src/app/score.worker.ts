/// <reference lib="webworker" />
// The app's own worker file, in the shape `ng generate web-worker` makes, so that the Angular CLI
// bundles it (it bundles only workers written in the app's sources). expose() registers the
// functions the pool may call by name, and serves the pool from this worker.
import { expose } from 'rxjs-parallel/worker';
import { score } from './score';

expose({ score });
