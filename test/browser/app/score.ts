/** What the pipeline computes per element, and where it ran. */
export interface Scored {
  value: number;
  square: number;
  /** True when computed inside a Web Worker. */
  inWorker: boolean;
}

/** The stage function: squares a number and says whether it ran in a worker. */
export function score(value: number): Scored {
  return { value, square: value * value, inWorker: inWorker() };
}

/** True inside a dedicated (or shared) worker, false in a window. */
export function inWorker(): boolean {
  // Read through globalThis: the DOM lib this file is type-checked with does not declare it.
  return typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';
}
