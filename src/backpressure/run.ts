import type { Observable } from 'rxjs';

/** Options of {@link run}. */
export interface RunOptions {
  /** Aborting it unsubscribes (tearing the pipeline down) and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Subscribes to a pipeline and returns a Promise that resolves when it completes (after every
 * stage's `onEnd` has run) and rejects with its error.
 *
 * ```ts
 * await run(fromIterable(files).pipe(eachParallel(upload, { workers: 4 })));
 * ```
 * @param source The pipeline.
 * @param options `signal` to cancel it.
 * @returns A Promise of its completion; values are discarded.
 * @see eachParallel, toAsyncIterable
 */
export function run(source: Observable<unknown>, options: RunOptions = {}): Promise<void> {
  const { signal } = options;
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      subscription.unsubscribe();
      reject(signal!.reason);
    };
    const subscription = source.subscribe({
      error: (error) => {
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      },
      complete: () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
    });
    if (subscription.closed) return;
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
