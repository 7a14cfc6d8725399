import type { ElementIndex } from '../errors.js';

/** Which worker of a stage is running a call. */
export interface WorkerInfo {
  /** 0 .. workers − 1 within the stage. */
  readonly index: number;
  /** The stage's `workers`. */
  readonly workers: number;
}

/** Handed to `onEnd`: how much of the stage is still running. */
export interface StageStatus {
  /** True only for the last worker of the stage subscription to end. */
  readonly done: boolean;
  /** Workers of the stage subscription that have not ended yet, this one excluded. */
  readonly activeWorkers: number;
}

/** The `ctx` handed to a stage's `fn`. */
export interface Context<Resources = unknown> {
  /** What this worker's `onStart` returned (undefined without `onStart`). */
  readonly resources: Resources;
  /** Which worker runs this call. */
  readonly workerInfo: WorkerInfo;
  /** The element's position in the source; one more level per flatMap it came out of. */
  readonly elementIndex: ElementIndex;
  /** Aborted when the element times out or the pipeline is torn down. */
  readonly signal: AbortSignal;
}

/** The `ctx` handed to `onStart`. */
export interface StartContext {
  /** Which worker is starting. */
  readonly workerInfo: WorkerInfo;
  /** The stage's name. */
  readonly stage: string;
}

/** The `ctx` handed to `onEnd`. */
export interface EndContext<Resources = unknown> {
  /** What this worker's `onStart` returned. */
  readonly resources: Resources;
  /** Which worker is ending. */
  readonly workerInfo: WorkerInfo;
  /** The stage's name. */
  readonly stage: string;
  /** `done` is true only for the last worker of the stage to end. */
  readonly stageStatus: StageStatus;
}
