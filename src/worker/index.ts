/**
 * The worker side of rxjs-parallel: `expose(tasks)` for an app-owned worker file.
 * @module
 */
import { exposedTasks } from '../core/task.js';

/**
 * Registers functions by name, for `task(name)` refs. In an app-owned worker file (browser or
 * bundler) this is what the worker runs; on the task and sync schedulers it registers them
 * in-process.
 * @param tasks Functions by name.
 */
export function expose(tasks: Record<string, (...args: any[]) => unknown>): void {
  for (const [name, fn] of Object.entries(tasks)) exposedTasks.set(name, fn);
}
