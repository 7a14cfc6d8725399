// What each element costs: plain functions, run in a Web Worker (score.worker.ts exposes them) or,
// where there is no Worker, in this realm.

/** One result, and where it was computed. */
export interface Scored {
  n: number;
  /** FNV-1a of `n`, mixed `ROUNDS` times: CPU work worth a worker. */
  score: string;
  /** `worker-…` in a Web Worker (one name per worker), `main` elsewhere (the page, the server). */
  realm: string;
}

export const ROUNDS = 200_000;

export function score(n: number): Scored {
  let hash = (2166136261 ^ n) >>> 0;
  for (let i = 0; i < ROUNDS; i++) hash = Math.imul(hash ^ (i & 0xff), 16777619) >>> 0;
  return { n, score: hash.toString(16).padStart(8, '0'), realm };
}

/** Names this realm: each Web Worker gets a name of its own. */
const realm =
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'function'
    ? `worker-${Math.random().toString(36).slice(2, 10)}`
    : 'main';
