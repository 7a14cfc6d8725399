import { InvalidOptionError } from '../errors.js';
import { importTaskModule } from '../internal/task-module.js';
import type { Context, EndContext, StartContext } from './context.js';

const kTaskRef = Symbol.for('rxjs-parallel.TaskRef');

/**
 * Names a function by module and export, so that a worker thread or process can import it.
 * Made by {@link task}. The type parameters only carry the function's types.
 */
export interface TaskRef<In = unknown, Out = unknown> {
  readonly [kTaskRef]: true;
  /** `file:`/`http(s):` URL of the module, or undefined for a name registered with `expose()`. */
  readonly module: string | undefined;
  /** The export (or `expose()`d name) to call. */
  readonly exportName: string;
  /** Phantom: keeps `In`/`Out` in the type. */
  readonly __types?: (input: In) => Out;
}

/** A stage callback: a function, or a {@link TaskRef} naming one. */
export type Work<Args extends unknown[] = any[], Out = unknown> =
  | ((...args: Args) => Out | PromiseLike<Out>)
  | TaskRef<Args[0], Out>;

/** What `fn` of a stage may be. */
export type StageFn<T, R, Res = any> = ((value: T, ctx: Context<Res>) => R | PromiseLike<R>) | TaskRef<T, R>;
/** What `onStart` may be. */
export type StartFn<Res = any> = ((ctx: StartContext) => Res | PromiseLike<Res>) | TaskRef<StartContext, Res>;
/** What `onEnd` may be. */
export type EndFn<Res = any> = ((ctx: EndContext<Res>) => unknown) | TaskRef<EndContext<Res>, unknown>;

/**
 * Names a function that a worker imports: `task(moduleUrlOrPath, exportName)` for a module's export,
 * or `task(name)` for a function an app-owned worker file registered with `expose({ name })`.
 * The same ref runs on every scheduler: the task and sync schedulers import it in-process.
 *
 * The module may be TypeScript: where Node cannot load it itself (vitest, a worker thread of a
 * `tsx` process), it is loaded through tsx (`npm i -D tsx`). A `./tasks.js` that does not exist
 * loads `./tasks.ts`, and the reverse, so one URL serves `src/` and the compiled output.
 *
 * ```ts
 * const score = task<Row, number>(new URL('./tasks.js', import.meta.url), 'score');
 * src$.pipe(mapParallel(score, { scheduler: 'thread', workers: 2 }));
 * ```
 * @param moduleOrName A `URL`, a `file:`/`http(s):` URL string or an absolute path of a JavaScript
 *   or TypeScript module; or, alone, an exposed name.
 * @param exportName The export to call (default: `'default'`).
 * @returns A serialisable {@link TaskRef}. A ref that cannot be loaded (no such module or export, a
 *   module that throws while it loads, TypeScript without tsx) fails its stage with a
 *   `WorkerFunctionError` on every scheduler.
 * @see docs/workers.md, "Which functions can run in a worker" and "TypeScript task modules".
 */
export function task<In = unknown, Out = unknown>(moduleOrName: string | URL, exportName?: string): TaskRef<In, Out> {
  if (exportName === undefined && typeof moduleOrName === 'string' && !looksLikeModule(moduleOrName)) {
    return freeze(undefined, moduleOrName);
  }
  if (exportName !== undefined && (typeof exportName !== 'string' || exportName === '')) {
    throw new InvalidOptionError('exportName', 'a non-empty string', exportName);
  }
  return freeze(toModuleUrl(moduleOrName), exportName ?? 'default');
}

function freeze<In, Out>(module: string | undefined, exportName: string): TaskRef<In, Out> {
  return Object.freeze({ [kTaskRef]: true as const, module, exportName });
}

/** True for a {@link TaskRef}. */
export function isTaskRef(value: unknown): value is TaskRef {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kTaskRef] === true;
}

/** `module#export`, for messages. */
export function describeWork(work: unknown): string {
  if (isTaskRef(work)) return work.module ? `${work.module}#${work.exportName}` : work.exportName;
  if (typeof work === 'function') return work.name || 'anonymous function';
  return String(work);
}

function looksLikeModule(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(text) || text.startsWith('/') || text.startsWith('.') || /\.(?:[cm]?[jt]s|tsx)$/.test(text);
}

function toModuleUrl(spec: string | URL): string {
  if (spec instanceof URL) return spec.href;
  if (typeof spec !== 'string' || spec === '') throw new InvalidOptionError('module', 'a URL or an absolute path', spec);
  if (/^[a-z][a-z0-9+.-]+:/i.test(spec)) return spec; // already a URL (a one-letter scheme is a Windows drive)
  if (/^[a-zA-Z]:[\\/]/.test(spec)) return 'file:///' + encodeURI(spec.replace(/\\/g, '/'));
  if (spec.startsWith('/')) return 'file://' + encodeURI(spec);
  throw new InvalidOptionError(
    'module',
    'a URL or an absolute path (relative paths are ambiguous in a worker; use new URL(path, import.meta.url))',
    spec,
  );
}

/**
 * Functions registered by `expose()` in this realm, found by `task(name)`. One registry per realm,
 * shared by every copy of the library loaded in it: the worker runtime (a bundle of its own, see
 * scripts/build.mjs) finds what a task module registered through `rxjs-parallel/worker`.
 */
export const exposedTasks: Map<string, (...args: any[]) => unknown> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for('rxjs-parallel.exposed')
] ??= new Map()) as Map<string, (...args: any[]) => unknown>;

const moduleCache = new Map<string, Promise<Record<string, unknown>>>();

/**
 * Finds the function a TaskRef names, importing its module once per realm.
 * Rejects with a plain Error naming what is missing; callers wrap it.
 */
export async function loadTask(ref: TaskRef): Promise<(...args: any[]) => unknown> {
  if (ref.module === undefined) {
    const fn = exposedTasks.get(ref.exportName);
    if (!fn) throw new Error(`no function named "${ref.exportName}" was registered with expose()`);
    return fn;
  }
  let loading = moduleCache.get(ref.module);
  if (!loading) {
    loading = importTaskModule(ref.module);
    moduleCache.set(ref.module, loading);
    loading.catch(() => moduleCache.delete(ref.module!));
  }
  const mod = await loading;
  let fn = mod[ref.exportName];
  // A CommonJS module imported from ESM puts its exports on `default`.
  if (typeof fn !== 'function' && mod.default && typeof mod.default === 'object') {
    fn = (mod.default as Record<string, unknown>)[ref.exportName];
  }
  if (typeof fn !== 'function') throw new Error(`module ${ref.module} has no function export "${ref.exportName}"`);
  return fn as (...args: any[]) => unknown;
}
