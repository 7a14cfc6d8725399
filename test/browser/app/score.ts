/** What the pipeline computes per element, and where. */
export interface Scored {
  value: number;
  square: number;
  /** True when computed inside a Web Worker. */
  inWorker: boolean;
  /** The `realm` of the worker's `onStart` resources (see `connect`), if the stage had one. */
  realm?: string;
}

/** The resources `connect` makes once per worker, handed to `score` as `ctx.resources`. */
export interface Connection {
  realm: string;
}

/** The stage function: squares a number and says where it ran. */
export function score(value: number, ctx?: { resources?: Connection }): Scored {
  return { value, square: value * value, inWorker: inWorker(), realm: ctx?.resources?.realm };
}

/** Fails on 3, to show how an error thrown in a worker reaches the page. */
export function scoreOrFail(value: number): number {
  if (value === 3) throw new RangeError(`no score for ${value}`);
  return value;
}

/** A stage's `onStart`: run once per worker, inside it; its result is `ctx.resources`. */
export function connect(): Connection {
  return { realm: realm };
}

/** True inside a dedicated (or shared) worker, false in a window. */
export function inWorker(): boolean {
  // Read through globalThis: the DOM lib this file is type-checked with does not declare it.
  return typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';
}

/** Names this realm (the page, or one worker), so that the page can count the workers that served it. */
const realm = `${inWorker() ? 'worker' : 'page'}-${Math.random().toString(36).slice(2, 10)}`;
