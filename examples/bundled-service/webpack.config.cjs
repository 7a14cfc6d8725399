// Bundles the service with webpack, rxjs-parallel inside, and copies beside it the two files its
// threads and processes start on (docs/bundling.md). Its input is the service compiled to
// JavaScript in build/ (by tsc, or by ts-loader in a rule, as the Nest CLI does).
const { copyFileSync } = require('node:fs');
const { join } = require('node:path');

module.exports = {
  target: 'node',
  mode: 'none',
  context: __dirname,
  entry: { main: './build/main.js', tasks: './build/tasks.js' },
  // commonjs2: tasks.js exports its functions, for the workers that import it.
  output: { path: join(__dirname, 'dist'), filename: '[name].js', library: { type: 'commonjs2' } },
  plugins: [
    {
      apply: (compiler) =>
        compiler.hooks.afterEmit.tap('rxjs-parallel worker entries', () => {
          for (const file of ['node-thread-entry.cjs', 'node-process-entry.cjs']) {
            copyFileSync(require.resolve(`rxjs-parallel/worker/${file}`), join(__dirname, 'dist', file));
          }
        }),
    },
  ],
};
