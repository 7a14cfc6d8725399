/**
 * What `fn` answers with, read as `await` reads it: a thenable is followed to its value, and a
 * thenable it answers with is followed in turn. Shared by the in-process schedulers and the worker
 * runtime. @internal
 * @module
 */

/** The `then` of a thenable, or undefined; throws what reading it throws. */
export function thenOf(value: unknown): PromiseLike<unknown>['then'] | undefined {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
  const then = (value as PromiseLike<unknown>).then;
  return typeof then === 'function' ? then : undefined;
}

/** Where the answer of a call's thenable goes: its first answer only (later ones are dropped here). */
export interface SettlesCall<C> {
  settleCall(call: C, ok: boolean, value: unknown): void;
}

/**
 * Calls `then` on `thenable` as a Promise adopts one (ECMAScript's PromiseResolveThenableJob, run at
 * once): the first of its callbacks to be called counts, and a value that is itself a thenable is
 * followed to its value (or its error) before `target` hears of it. A `then` that throws before
 * answering throws here (the caller fails the call, as it does when `fn` throws); one that throws
 * after answering is ignored, as a Promise ignores it.
 */
export function adoptThenable<C>(thenable: unknown, then: PromiseLike<unknown>['then'], target: SettlesCall<C>, call: C): void {
  let answered = false;
  const onValue = (value: unknown) => {
    if (answered) return;
    answered = true;
    let next: PromiseLike<unknown>['then'] | undefined;
    try {
      next = thenOf(value);
    } catch (error) {
      return target.settleCall(call, false, error);
    }
    if (!next) return target.settleCall(call, true, value);
    try {
      adoptThenable(value, next, target, call);
    } catch (error) {
      target.settleCall(call, false, error); // the inner `then` threw before answering
    }
  };
  const onError = (error: unknown) => {
    if (answered) return;
    answered = true;
    target.settleCall(call, false, error);
  };
  try {
    then.call(thenable, onValue, onError);
  } catch (error) {
    if (answered) return;
    answered = true;
    throw error;
  }
}
