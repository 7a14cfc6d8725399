/**
 * `import(url)` of a module known only at run time (a TaskRef's module, a Node built-in).
 * scripts/build.mjs writes the CommonJS build's copy by hand: tsc would turn it into `require()`.
 * The comments keep bundlers from resolving it at build time: Vite (`@vite-ignore`) and webpack
 * (`webpackIgnore`; without it webpack makes the call a lookup among the files it bundled, where
 * no `node:url` is found). esbuild leaves an `import()` of a variable alone.
 */
export const importModule = (url: string): Promise<unknown> => import(/* webpackIgnore: true */ /* @vite-ignore */ url);
