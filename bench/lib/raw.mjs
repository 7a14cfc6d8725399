// The raw peers: worker_threads and child_process.fork message passing written plainly, the way an
// application would without a library. Calls go round robin; each returns a Promise.
import { Worker } from 'node:worker_threads';
import { fork } from 'node:child_process';

const threadScript = new URL('../workers/raw-thread.mjs', import.meta.url);
const childScript = new URL('../workers/raw-child.mjs', import.meta.url);

class RawPool {
  constructor(endpoints, send) {
    this.endpoints = endpoints;
    this.send = send;
    this.pending = new Map();
    this.nextId = 0;
    this.turn = 0;
    this.onReply = (m) => {
      const resolve = this.pending.get(m[0]);
      this.pending.delete(m[0]);
      resolve(m[1]);
    };
  }
  call(op, value) {
    const id = this.nextId++;
    const endpoint = this.endpoints[this.turn];
    this.turn = (this.turn + 1) % this.endpoints.length;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.send(endpoint, [id, op, value]);
    });
  }
}

/** `n` worker threads; resolves once all are online (with `wait: false`, at once: messages queue until then). */
export async function rawThreads(n, { wait = true } = {}) {
  const workers = Array.from({ length: n }, () => new Worker(threadScript));
  const pool = new RawPool(workers, (w, m) => w.postMessage(m));
  for (const w of workers) w.on('message', pool.onReply);
  if (wait) await Promise.all(workers.map((w) => new Promise((resolve) => w.once('online', resolve))));
  pool.close = () => Promise.all(workers.map((w) => w.terminate()));
  return pool;
}

/**
 * `n` forked children with `serialization` ('json' or 'advanced'); resolves once all said ready
 * (with `wait: false`, at once: messages queue in the channel until the child listens).
 */
export async function rawFork(n, serialization, { wait = true } = {}) {
  const children = Array.from({ length: n }, () => fork(childScript, [], { serialization, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const ready = children.map((c) => new Promise((resolve) => c.once('message', resolve)));
  if (wait) await Promise.all(ready);
  const pool = new RawPool(children, (c, m) => c.send(m));
  for (const c of children) c.on('message', (m) => m !== 'ready' && pool.onReply(m));
  pool.close = () =>
    Promise.all(
      children.map(
        (c) =>
          new Promise((resolve) => {
            if (c.exitCode !== null) return resolve();
            c.once('exit', resolve);
            c.kill();
          }),
      ),
    );
  return pool;
}
