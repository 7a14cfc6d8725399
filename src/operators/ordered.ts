import type { Observable, OperatorFunction } from 'rxjs';
import { isPullObservable, PullObservable, subscribePull } from '../backpressure/credit.js';

/**
 * Restores source order (by element index) of the rxjs-parallel stages before it, streaming: each
 * element is emitted as soon as every element before it has been. It asks every stage upstream, up
 * to the source or to the nearest operator that is not ours, to emit in the order elements arrived
 * — the same as setting `ordered: true` on each (flatMapParallel then behaves as flatMapOrdered).
 * So it holds nothing itself, and a slow head element stalls intake instead of growing a buffer.
 * Over a plain Observable it passes values through unchanged.
 *
 * ```ts
 * fromIterable([30, 10, 20]).pipe(
 *   mapParallel((ms) => delay(ms).then(() => ms), { workers: 3 }),
 *   ordered(),
 * ).subscribe(console.log);
 * // 30, 10, 20
 * ```
 * @returns An operator emitting the same values in source order.
 * @see mapParallel, flatMapOrdered
 */
export function ordered<T>(): OperatorFunction<T, T> {
  return (source: Observable<T>) =>
    isPullObservable(source)
      ? new PullObservable<T>((observer, request) => subscribePull(source, observer, { line: request.line, ordered: true }))
      : source;
}
