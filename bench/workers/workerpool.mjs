// workerpool's worker script: it needs its functions registered by name.
import workerpool from 'workerpool';
import { burnInc, inc, incBatch } from './tasks.mjs';

workerpool.worker({ inc, incBatch, burnInc });
