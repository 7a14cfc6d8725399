/**
 * The runtime's side of each transport, as a {@link WorkerPort}. Nothing here imports a Node
 * module: the entry files and `expose()` hand in what they found.
 * @internal
 * @module
 */
import type { TransferListItem } from '../core/transfer.js';
import type { WorkerPort } from './runtime.js';

/** The subset of `node:worker_threads`' `parentPort` the runtime uses. */
interface NodeParentPort {
  postMessage(message: unknown, transfer?: readonly any[]): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/** A Node worker thread, over its `parentPort`. */
export function nodeThreadPort(parentPort: NodeParentPort): WorkerPort {
  return {
    post: (message, transfer) => parentPort.postMessage(message, transfer as TransferListItem[] | undefined),
    listen: (onMessage) => parentPort.on('message', onMessage),
    exit: () => (globalThis as any).process.exit(0), // in a worker thread this ends the thread only
  };
}

/** A dedicated Web Worker (or any scope with `postMessage` and `addEventListener('message')`). */
export function webWorkerPort(scope: {
  postMessage(message: unknown, transfer: any[]): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  close(): void;
}): WorkerPort {
  return {
    post: (message, transfer) => scope.postMessage(message, (transfer as any[]) ?? []),
    listen: (onMessage) => scope.addEventListener('message', (event) => onMessage(event.data)),
    exit: () => scope.close(),
  };
}

/** A child process forked with an IPC channel (`serialization: 'advanced'`): everything is copied. */
export function childProcessPort(proc: {
  send?: (message: unknown) => boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  exit(code?: number): never;
}): WorkerPort {
  return {
    post: (message) => void proc.send!(message), // no transfer between processes: the value is copied
    listen: (onMessage) => proc.on('message', onMessage),
    exit: () => proc.exit(0),
  };
}
