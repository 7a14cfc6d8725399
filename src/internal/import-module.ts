/**
 * `import(url)` of a module known only at run time (a TaskRef's module).
 * scripts/build.mjs writes the CommonJS build's copy by hand: tsc would turn it into `require()`.
 */
export const importModule = (url: string): Promise<unknown> => import(/* @vite-ignore */ url);
