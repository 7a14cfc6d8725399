/**
 * The outputs of one flatMap call, collected into an array (in a worker, so they can be sent back in
 * one message). Accepts an Iterable, an AsyncIterable, anything with `subscribe` (an Observable of
 * any library) or `Symbol.observable`, or a Promise of those; `undefined`/`null` are no output; a
 * string or any other value is one output. Synchronous results stay synchronous (an array back, so
 * the common case costs no promise); an array returned by `fn` is used as is, never modified.
 * Written without rxjs, so a worker bundle does not need it.
 * @internal
 */
export function collectOutputs(value: unknown): unknown[] | Promise<unknown[]> {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (typeof value !== 'object' && typeof value !== 'function') return [value];
  if (Array.isArray(value)) return value;
  const v = value as Record<PropertyKey, any>;
  if (typeof v[Symbol.iterator] === 'function') return Array.from(value as Iterable<unknown>);
  if (typeof v.then === 'function') return Promise.resolve(value).then(collectOutputs);
  if (typeof v[Symbol.asyncIterator] === 'function') return drain(value as AsyncIterable<unknown>);
  const interop = (Symbol as { observable?: symbol }).observable ?? '@@observable';
  if (typeof v[interop] === 'function') return subscribeAll(v[interop]());
  if (typeof v.subscribe === 'function') return subscribeAll(v as { subscribe(observer: object): unknown });
  return [value];
}

async function drain(source: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const item of source) out.push(item);
  return out;
}

function subscribeAll(observable: { subscribe(observer: object): unknown }): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const out: unknown[] = [];
    observable.subscribe({ next: (item: unknown) => out.push(item), error: reject, complete: () => resolve(out) });
  });
}
