import { Subscription, type Observable, type OperatorFunction } from 'rxjs';
import { describeChain, isPullObservable, PullObservable, subscribePull } from '../backpressure/credit.js';
import { OrderingError } from '../errors.js';

/**
 * Restores source order (by element index) of the rxjs-parallel stages before it, streaming: each
 * element is emitted as soon as every element before it has been. It asks every stage upstream, up
 * to the source, to emit in the order elements arrived — the same as setting `ordered: true` on
 * each (flatMapParallel then behaves as flatMapOrdered) — through any RxJS operator that delivers
 * synchronously (`map`, `filter`, `tap`, `take`...). So it holds nothing itself, and a slow head
 * element stalls intake instead of growing a buffer.
 *
 * It fails with an {@link OrderingError} rather than pass values on out of order: at subscribe when
 * nothing before it can be reordered (no stage of ours and no `fromIterable` upstream), and at the
 * first value an operator between it and the stages emits on its own (`delay`, `mergeMap` over
 * async inners, `bufferTime`...: their order is their own).
 *
 * ```ts
 * fromIterable([30, 10, 20]).pipe(
 *   mapParallel((ms) => delay(ms).then(() => ms), { workers: 3 }),
 *   ordered(),
 * ).subscribe(console.log);
 * // 30, 10, 20
 * ```
 * @returns An operator emitting the same values in source order.
 * @throws {OrderingError} to its subscriber (as an error notification) when the order cannot be restored.
 * @see mapParallel, flatMapOrdered
 */
export function ordered<T>(): OperatorFunction<T, T> {
  return (source: Observable<T>) =>
    new PullObservable<T>(
      (observer, request) => {
        if (!isPullObservable(source)) {
          observer.error(new OrderingError(describeChain(source, 'ordered()'), 'nothing before it can be reordered: put it after rxjs-parallel stages, or read the source with fromIterable()'));
          return Subscription.EMPTY;
        }
        return subscribePull(source, observer, {
          line: request.line,
          ordered: true,
          numberIndex: request.numberIndex, // the observer is the consumer's own
          orderedBy: 'ordered()',
          onBreak: (chain) => observer.error(new OrderingError(`ordered() ← ${chain}`, 'an operator before it emits on its own, in its own order')),
        });
      },
      'ordered()',
      source,
    );
}
