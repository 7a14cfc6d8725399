// The raw child_process.fork peer, written plainly: a message is [id, op, value], the reply [id, result].
import { burnFor, burnInc, inc } from './tasks.mjs';

const ops = { inc, burnInc, burnFor };
process.on('message', (m) => process.send([m[0], ops[m[1]](m[2])]));
process.send('ready', undefined, undefined, () => {}); // the parent may be gone already (a startup sample exits at its first result)
