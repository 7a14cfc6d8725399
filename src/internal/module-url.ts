// The URL of this module, used to find sibling files (the worker entry points) at run time.
// @ts-ignore -- `import.meta` is ESM only; scripts/build.mjs replaces this file in the CJS build.
export const moduleUrl: string = import.meta.url;
