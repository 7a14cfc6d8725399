// The example app's Vite config: all an app needs for rxjs-parallel's thread scheduler.
import { defineConfig } from 'vite';

export default defineConfig({
  worker: {
    // Emit workers as ES modules, matching the `{ type: 'module' }` the app starts them with.
    // Vite's default ('iife') fails to build a worker that code-splits (a lazy `import()`).
    format: 'es',
  },
});
