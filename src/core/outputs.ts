import { from, isObservable, lastValueFrom, toArray, type ObservableInput } from 'rxjs';

/**
 * The outputs of one flatMap call. `fn` may return an Iterable, an AsyncIterable, an Observable
 * (any ObservableInput), or a Promise of any of these; a Promise of anything else, or a plain
 * value, is one output; `undefined` and `null` are none. Strings are one output, not characters.
 * Synchronous results stay synchronous (an array back), so the common case costs no promise.
 * @internal
 */
export function collectOutputs(value: unknown): unknown[] | Promise<unknown[]> {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (typeof value === 'object' || typeof value === 'function') {
    if (Array.isArray(value)) return value.slice(); // ours to clear as we emit; the caller's stays intact
    if (typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function') return Array.from(value as Iterable<unknown>);
    if (typeof (value as PromiseLike<unknown>).then === 'function') {
      return Promise.resolve(value as PromiseLike<unknown>).then(collectOutputs);
    }
    if (typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') return drain(value as AsyncIterable<unknown>);
    if (isObservable(value) || typeof (value as Record<symbol, unknown>)[Symbol.observable ?? '@@observable'] === 'function') {
      return lastValueFrom(from(value as ObservableInput<unknown>).pipe(toArray()));
    }
  }
  return [value];
}

async function drain(source: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const item of source) out.push(item);
  return out;
}
