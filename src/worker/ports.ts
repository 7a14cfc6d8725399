/**
 * The runtime's side of each transport, as a {@link WorkerPort}. Nothing here imports a Node
 * module: the entry files and `expose()` hand in what they found.
 * @internal
 * @module
 */
import type { TransferListItem } from '../shared/transfer.js';
import type { WorkerPort } from './runtime.js';

/** The subset of `node:worker_threads`' `parentPort` the runtime uses. */
interface NodeParentPort {
  postMessage(message: unknown, transfer?: readonly any[]): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  close(): void;
}

/**
 * A Node worker thread, over its `parentPort`. Exiting closes the port, so the thread ends once
 * what it still has to do (a log line, a socket write) is done; the pool terminates it after
 * `cancelGrace` if something keeps it alive.
 */
export function nodeThreadPort(parentPort: NodeParentPort): WorkerPort {
  return {
    post: (message, transfer) => parentPort.postMessage(message, transfer as TransferListItem[] | undefined),
    listen: (onMessage) => parentPort.on('message', onMessage),
    exit: () => parentPort.close(),
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

const ignoreSendError = (): void => {};

/**
 * A child process forked with an IPC channel (`serialization: 'advanced'`): everything is copied.
 * Exiting disconnects, so the process ends once idle; a disconnect it did not ask for means the
 * parent is gone, and then it exits at once (resources held by onStart must not keep an orphan).
 */
export function childProcessPort(proc: {
  send?: (message: unknown, callback: (error: Error | null) => void) => boolean;
  connected?: boolean;
  on(event: 'message' | 'disconnect', listener: (message?: unknown) => void): unknown;
  disconnect?: () => void;
  exit(code?: number): never;
}): WorkerPort {
  let closing = false;
  proc.on('disconnect', () => {
    if (!closing) proc.exit(0);
  });
  return {
    post: (message) => {
      // After close, a call that ignored its signal may still settle: there is no one to tell (and
      // a send on a closed channel would be an unhandled 'error' event).
      if (proc.connected === false) return;
      // No transfer between processes: the value is copied. A write that fails later (the parent
      // exited while this child was still starting: EPIPE) goes to the callback, not to an
      // unhandled 'error' event that would crash the child with a stack trace; 'disconnect' follows.
      proc.send!(message, ignoreSendError);
    },
    listen: (onMessage) => proc.on('message', onMessage),
    exit: () => {
      closing = true;
      proc.disconnect!();
    },
  };
}
