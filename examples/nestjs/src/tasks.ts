// The functions the `cpu` scheduler's worker threads import, by module and export name
// (task(tasksModule, 'score')). Only what a worker needs: no Nest, no app state.
import { createHash } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import type { EndContext, StartContext } from 'rxjs-parallel';

/** One element of the scores stream. */
export interface Scored {
  n: number;
  /** The hex SHA-256 of `n`, hashed again `ROUNDS` times: CPU work worth a thread. */
  score: string;
  /** The worker thread that computed it (0 would be the main thread). */
  threadId: number;
}

/** What a worker keeps between calls: made by `open`, released by `close`. */
export interface Tally {
  worker: number;
  scored: number;
}

export const ROUNDS = 2000;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The stage function: hashes `n` ROUNDS times, in a worker thread. */
export function score(n: number, ctx: { resources: Tally }): Scored {
  let hash = String(n);
  for (let i = 0; i < ROUNDS; i++) hash = sha256(hash);
  ctx.resources.scored++;
  return { n, score: hash, threadId };
}

/** onStart: once per worker of a stage, in that worker thread. */
export function open(ctx: StartContext): Tally {
  return { worker: ctx.workerInfo.index, scored: 0 };
}

/** onEnd: once per worker when the stage ends, for whatever reason (the app shutting down too). */
export function close(ctx: EndContext<Tally>): void {
  console.log(`${ctx.stage}: worker ${ctx.resources.worker} (thread ${threadId}) released after ${ctx.resources.scored} elements`);
}

/** A report of the /reports endpoint. */
export interface Report {
  id: number;
  title: string;
}

/** What the interceptor's stage makes of a report: the same, with a checksum, from a worker thread. */
export function withChecksum(report: Report): Report & { checksum: string; threadId: number } {
  return { ...report, checksum: sha256(JSON.stringify(report)), threadId };
}
