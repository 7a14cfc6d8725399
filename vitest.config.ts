import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

// Tests import the package by name and get the built dist/ (npm test builds first): workers
// cannot load .ts, and one copy of the library keeps `instanceof` meaningful across tests.
const dist = (path: string) => fileURLToPath(new URL(`./dist/esm/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^rxjs-parallel$/, replacement: dist('index.js') },
      { find: /^rxjs-parallel\/(.*)$/, replacement: dist('$1/index.js') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
