import type { Observable } from 'rxjs';
import { Subscription } from 'rxjs';
import { InvalidOptionError } from '../errors.js';
import { PullObservable, type CreditLine, type IndexedObserver } from './credit.js';

/**
 * A pull source over an Iterable or AsyncIterable (a generator, an array, a Node Readable, a web
 * ReadableStream): the next item is read only when downstream has credit, so a fast producer can
 * never outrun the pipeline. Subscribed by anything other than an rxjs-parallel stage or
 * {@link toAsyncIterable}, it reads as fast as it is consumed, like RxJS's `from`.
 * Each subscription asks the iterable for a new iterator; unsubscribing calls its `return()`
 * (closing a Readable or a generator's `finally`).
 *
 * ```ts
 * const lines = fromIterable(readline.createInterface({ input: fs.createReadStream('big.csv') }));
 * lines.pipe(mapParallel(parseRow, { workers: 4 })) // reads at most workers + maxsize lines ahead
 * ```
 * @param iterable What to read.
 * @returns An Observable of its items, in order, that speaks the credit protocol.
 * @see toAsyncIterable
 */
export function fromIterable<T>(iterable: Iterable<T> | AsyncIterable<T>): Observable<T> {
  const isAsync = iterable != null && typeof (iterable as AsyncIterable<T>)[Symbol.asyncIterator] === 'function';
  if (!isAsync && (iterable == null || typeof (iterable as Iterable<T>)[Symbol.iterator] !== 'function')) {
    throw new InvalidOptionError('iterable', 'an Iterable or an AsyncIterable', iterable);
  }
  return new PullObservable<T>(
    (observer, { line, numberIndex }) => {
      let iterator: Iterator<T> | AsyncIterator<T>;
      try {
        iterator = isAsync ? (iterable as AsyncIterable<T>)[Symbol.asyncIterator]() : (iterable as Iterable<T>)[Symbol.iterator]();
      } catch (error) {
        observer.error(error);
        return Subscription.EMPTY;
      }
      const numbers = numberIndex === true;
      return isAsync ? pullAsync(iterator as AsyncIterator<T>, observer, line, numbers) : pullSync(iterator as Iterator<T>, observer, line, numbers);
    },
    'fromIterable',
  );
}

/** `numbers`: the consumer takes an index as a plain number (no array per element). */
function pullSync<T>(iterator: Iterator<T>, observer: IndexedObserver<T>, line: CreditLine, numbers: boolean): Subscription {
  let read = 0;
  let done = false;
  let pulling = false;
  const pull = () => {
    if (pulling) return; // a grant from inside observer.next: the loop below picks it up
    pulling = true;
    try {
      while (!done && !observer.closed && line.take()) {
        let step: IteratorResult<T>;
        try {
          step = iterator.next();
        } catch (error) {
          done = true;
          observer.error(error);
          return;
        }
        if (step.done) {
          done = true;
          observer.complete();
          return;
        }
        observer.next(step.value, numbers ? read++ : [read++]);
      }
    } finally {
      pulling = false;
    }
  };
  line.onGrant(pull);
  const subscription = new Subscription(() => {
    if (!done) {
      done = true;
      try {
        iterator.return?.();
      } catch {
        // unsubscribed: what the source's clean-up throws has no one to go to
      }
    }
  });
  pull();
  return subscription;
}

function pullAsync<T>(iterator: AsyncIterator<T>, observer: IndexedObserver<T>, line: CreditLine, numbers: boolean): Subscription {
  let read = 0;
  let done = false;
  let reading = false;
  const pull = async () => {
    if (reading) return; // one read at a time; the loop picks up credits granted meanwhile
    reading = true;
    try {
      while (!done && !observer.closed && line.take()) {
        let step: IteratorResult<T>;
        try {
          step = await iterator.next();
        } catch (error) {
          if (!done) {
            done = true;
            observer.error(error);
          }
          return;
        }
        if (done) return;
        if (step.done) {
          done = true;
          observer.complete();
          return;
        }
        observer.next(step.value, numbers ? read++ : [read++]);
      }
    } finally {
      reading = false;
    }
  };
  line.onGrant(() => void pull());
  const subscription = new Subscription(() => {
    if (!done) {
      done = true;
      // The iterator may be mid-read; return() runs after it, and its errors are nobody's to report.
      try {
        Promise.resolve(iterator.return?.()).catch(() => {});
      } catch {
        // likewise
      }
    }
  });
  void pull();
  return subscription;
}
