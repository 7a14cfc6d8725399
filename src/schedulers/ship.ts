/**
 * The main side of sending a stage's functions to a worker: a TaskRef goes as its module and export;
 * a plain function goes as its source text, after the checks that can be made here.
 * @internal
 * @module
 */
import { describeWork, isTaskRef, type Work } from '../shared/task.js';
import { WorkerFunctionError } from '../errors.js';
import type { StageWork } from './scheduler.js';
import type { WireFunction, WireWork } from '../worker/protocol.js';

const shipped = new WeakMap<object, WireFunction | WorkerFunctionError>();

/** The stage's work as sent to a worker; throws {@link WorkerFunctionError} for a function that cannot go. */
export function toWireWork(work: StageWork): WireWork {
  return {
    name: work.name,
    mode: work.mode,
    fn: toWireFunction(work.fn),
    onStart: work.onStart && toWireFunction(work.onStart),
    onEnd: work.onEnd && toWireFunction(work.onEnd),
    ...(work.timed ? { timed: true } : {}),
  };
}

function toWireFunction(work: Work): WireFunction {
  if (isTaskRef(work)) return { module: work.module, exportName: work.exportName };
  let wire = shipped.get(work);
  if (!wire) {
    wire = check(work as (...args: any[]) => unknown);
    shipped.set(work, wire);
  }
  if (wire instanceof WorkerFunctionError) throw wire;
  return wire;
}

const IDENTIFIER_ARROW = /^(?:async\s+)?[\p{L}\p{Nl}$_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}$_\u200c\u200d]*\s*=>/u;
const USE_TASK = "Define it in a module and pass task(new URL('./module.js', import.meta.url), 'exportName') instead.";

/** What can be told from the source text before it goes. */
function check(fn: (...args: any[]) => unknown): WireFunction | WorkerFunctionError {
  const name = fn.name || 'anonymous function';
  const source = Function.prototype.toString.call(fn).trim();
  const fail = (reason: string) => new WorkerFunctionError(name, reason);
  if (/\{\s*\[native code\]\s*\}$/.test(source)) {
    return fail(`it is a native or bound function, which has no source text to send. ${USE_TASK}`);
  }
  if (/^class\b/.test(source)) return fail(`it is a class, not a function. ${USE_TASK}`);
  const expression = /^(?:async\s*)?function\b/.test(source) || /^(?:async\s*)?\(/.test(source) || IDENTIFIER_ARROW.test(source);
  if (!expression) {
    return fail(
      'it is written as a method (`name(x) { ... }` in an object literal or class), whose source text is not a function ' +
        `expression. Write \`name: (x) => ...\` or \`name: function (x) { ... }\`, or: ${USE_TASK}`,
    );
  }
  const helper = /\b__vite_ssr_[A-Za-z0-9_]*/.exec(source);
  if (helper) {
    return fail(
      `it must be self-contained, but Vite's module runner rewrote it to use \`${helper[0]}\`, a binding of the module it ` +
        `came from (an import, or import()), and a plain function is rebuilt from its source text alone. ${USE_TASK}`,
    );
  }
  return { source, name };
}

/**
 * What a ReferenceError from a plain function in a worker means: it used something from outside its
 * own source text.
 */
export function selfContainedError(work: Work, error: Error): WorkerFunctionError {
  return new WorkerFunctionError(
    describeWork(work),
    `it must be self-contained (${error.message}): a plain function sent to a thread or process is rebuilt from its ` +
      `source text, without the variables, imports and helpers of the module it came from. ${USE_TASK}`,
    { cause: error },
  );
}

/** A TaskRef (or an exposed name) the worker could not load, or a source text it could not rebuild. */
export function loadError(work: Work, error: unknown): WorkerFunctionError {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const reason = isTaskRef(work)
    ? `it could not be loaded (${message})`
    : `its source text could not be rebuilt in the worker (${message}). ${USE_TASK}`;
  return new WorkerFunctionError(describeWork(work), reason, { cause: error });
}
