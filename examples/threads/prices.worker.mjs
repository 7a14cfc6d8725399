// A threads.js worker whose functions go through parallelTasks(): they get (value, ctx), and
// onStart/onEnd run here, once per worker of the stage.
import { expose } from 'threads/worker';
import { parallelTasks } from 'rxjs-parallel/threads';

expose(
  parallelTasks({
    open: () => new Map([['apple', 3], ['pear', 2]]), // onStart: this worker's resources
    price: (item, ctx) => ctx.resources.get(item) ?? 0,
    close: (ctx) => ctx.resources.clear(), // onEnd
  }),
);
