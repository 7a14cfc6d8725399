import { loadTask, type TaskRef } from '../shared/task.js';
import type { WireFunction } from './protocol.js';

type Fn = (...args: any[]) => unknown;

const rebuilt = new Map<string, Fn>();

/**
 * esbuild's `keepNames` (tsx, some bundlers) wraps functions in `__name(fn, "name")`; the helper
 * lives in the original module, so a rebuilt function gets a stand-in that does the same.
 */
const nameHelper = (fn: unknown, name: string) => {
  try {
    Object.defineProperty(fn, 'name', { value: name, configurable: true });
  } catch {
    // a frozen function keeps its name
  }
  return fn;
};

/**
 * The function a {@link WireFunction} names: a TaskRef's export (imported once per worker), or a
 * plain function rebuilt from its source text (once per distinct source). Rejects with what the
 * import or the rebuild threw.
 */
export async function resolveWireFunction(wire: WireFunction): Promise<Fn> {
  if (wire.source === undefined) return loadTask(wire as unknown as TaskRef);
  let fn = rebuilt.get(wire.source);
  if (!fn) {
    // The trailing newline ends a `//` comment that may close the source text.
    fn = new Function('__name', `return (${wire.source}\n);`)(nameHelper) as Fn;
    if (typeof fn !== 'function') throw new TypeError(`the source text of ${wire.name} is not a function`);
    rebuilt.set(wire.source, fn);
  }
  return fn;
}
