// The raw worker_threads peer, written plainly: a message is [id, op, value], the reply [id, result].
import { parentPort } from 'node:worker_threads';
import { burnFor, burnInc, inc } from './tasks.mjs';

const ops = { inc, burnInc, burnFor };
parentPort.on('message', (m) => parentPort.postMessage([m[0], ops[m[1]](m[2])]));
