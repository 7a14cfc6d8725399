/**
 * Imports the module a TaskRef names, in whichever realm runs it (the main thread for the task and
 * sync schedulers, a worker thread, a child process).
 *
 * Node's own `import()` first: it is what compiled code, a `tsx` process (whose loader reaches the
 * main thread and child processes) and Node's own type stripping use. When Node cannot load a
 * TypeScript module itself (a vitest run, whose test files Vite compiles but whose dependencies
 * import through Node; a worker thread of a `tsx` process, which Node 20 starts without tsx's
 * loader), the module goes through tsx (an optional peer dependency), registered once per realm
 * under a namespace of its own: only the modules imported through it are compiled, nothing else the
 * process imports changes, and TaskRef modules that import the same file share one instance of it.
 *
 * A TaskRef may name a module by its compiled name or by its source name (`./tasks.js` or
 * `./tasks.ts`): when the file named does not exist, its counterpart does (TypeScript's NodeNext
 * convention), so the same `new URL('./tasks.js', import.meta.url)` runs from `src/` in development
 * and from the compiled output.
 * @internal
 * @module
 */
import { importModule } from './import-module.js';

type Module = Record<string, unknown>;
type ScopedImport = (specifier: string, parentUrl: string) => Promise<Module>;

const TYPESCRIPT = /\.(?:[cm]?ts|tsx)$/;
/** Compiled name ↔ source name, in the order they are tried. */
const COUNTERPARTS: Record<string, readonly string[]> = {
  '.js': ['.ts', '.tsx'],
  '.mjs': ['.mts'],
  '.cjs': ['.cts'],
  '.ts': ['.js'],
  '.tsx': ['.js'],
  '.mts': ['.mjs'],
  '.cts': ['.cjs'],
};
/**
 * What Node answers for TypeScript it cannot load: no loader at all (Node 20), or type stripping
 * that meets syntax it does not strip (`enum`, `namespace`: Node 22.6+), or a `.ts` file inside
 * node_modules, which type stripping refuses.
 */
const CANNOT_COMPILE = new Set(['ERR_UNKNOWN_FILE_EXTENSION', 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX', 'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING']);
/** tsx's namespace for the TaskRef modules of this library (one per realm, shared by every copy). */
const NAMESPACE = 'rxjs-parallel';
const kTsx = Symbol.for('rxjs-parallel.tsx');

/** Imports a TaskRef's module; rejects with what the import threw, or with why TypeScript cannot load. */
export async function importTaskModule(url: string): Promise<Module> {
  try {
    return (await importModule(url)) as Module;
  } catch (error) {
    if (!url.startsWith('file:') || typeof (globalThis as any).process?.versions?.node !== 'string') throw error;
    const code = (error as { code?: unknown } | null)?.code;
    if (CANNOT_COMPILE.has(code as string) && TYPESCRIPT.test(new URL(url).pathname)) return importWithTsx(url, error);
    if (code === 'ERR_MODULE_NOT_FOUND') {
      const counterpart = await existingCounterpart(url);
      if (counterpart) return importTaskModule(counterpart);
    }
    throw error;
  }
}

/** `tasks.ts` for a `tasks.js` that does not exist, and the reverse; undefined when the file named exists. */
async function existingCounterpart(url: string): Promise<string | undefined> {
  const [{ existsSync }, { fileURLToPath }]: any[] = await Promise.all([importModule('node:fs'), importModule('node:url')]);
  const named = new URL(url);
  const extension = /\.[^./]+$/.exec(named.pathname)?.[0];
  const others = extension && COUNTERPARTS[extension];
  if (!others || existsSync(fileURLToPath(named))) return undefined;
  for (const other of others) {
    const candidate = new URL(named.href);
    candidate.pathname = named.pathname.slice(0, -extension.length) + other;
    if (existsSync(fileURLToPath(candidate))) return candidate.href;
  }
  return undefined;
}

async function importWithTsx(url: string, nodeError: unknown): Promise<Module> {
  let scoped: ScopedImport;
  try {
    scoped = await tsx();
  } catch (error) {
    const code = (nodeError as { code?: unknown }).code;
    const missing = (error as { code?: unknown } | null)?.code === 'ERR_MODULE_NOT_FOUND';
    throw new Error(
      `Node cannot load the TypeScript module ${url} by itself (${code}), and ` +
        (missing ? 'tsx, which rxjs-parallel uses to load it, is not installed' : `tsx could not be loaded (${describe(error)})`) +
        '. Install it in the project: npm i -D tsx',
      { cause: error },
    );
  }
  return scoped(url, url);
}

/** tsx's ESM and CommonJS loaders, registered once per realm under our namespace. */
function tsx(): Promise<ScopedImport> {
  const realm = globalThis as Record<symbol, Promise<ScopedImport> | undefined>;
  let registering = realm[kTsx];
  if (!registering) {
    registering = (async () => {
      // Both are needed: the ESM loader compiles the module, and a `.ts` file that is CommonJS (a
      // package without `"type": "module"`) requires its own imports through the CommonJS one.
      // Always the ES module build of tsx's API, from either of ours: its CommonJS build of
      // `tsx/esm/api` registers a loader file that does not exist (tsx 4.23.15).
      // Resolved from this file: tsx is our optional peer, installed beside us.
      const [esm, cjs]: any[] = await Promise.all([importModule('tsx/esm/api'), importModule('tsx/cjs/api')]);
      cjs.register({ namespace: NAMESPACE });
      const api = esm.register({ namespace: NAMESPACE });
      return (specifier: string, parentUrl: string) => api.import(specifier, parentUrl) as Promise<Module>;
    })();
    realm[kTsx] = registering;
    registering.catch(() => {
      if (realm[kTsx] === registering) realm[kTsx] = undefined; // installed later, found later
    });
  }
  return registering;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
