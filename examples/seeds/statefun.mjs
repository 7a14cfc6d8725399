// flink-statefun-tasks' pipelines (fransking/flink-statefun-tasks, docs: Introduction, Tasks,
// Pipelines), ported to rxjs-parallel and RxJS, printing each pipeline's result. A statefun task is
// a function; `task.send(args)` is a call not made yet: here `() => task(args)` or `defer(...)`.
// A pipeline is an Observable that runs when subscribed (statefun: when submitted).
//   node examples/seeds/statefun.mjs          (docs/coming-from.md has the side-by-side table)
import { catchError, concatMap, defer, EMPTY, expand, firstValueFrom, last, lastValueFrom, map, of, toArray } from 'rxjs';
import { finalizeAsync, fromIterable, inParallel, mapParallel } from 'rxjs-parallel';

// @tasks.bind() def multiply(x, y): return x * y   — tasks may be sync or async; these are async.
const multiply = async (x, y) => x * y;
const divide = async (x, y) => x / y;
const subtract = async (x, y) => x - y;
const add = async (x, y) => x + y;
const average = (values) => values.reduce((a, b) => a + b, 0) / values.length;

/** `client.submit_async(pipeline)`: runs it and resolves with its result. */
const submit = (pipeline) => lastValueFrom(pipeline);

// ---- Continuations ---------------------------------------------------------------------------
// pipeline = multiply.send(3, 2).continue_with(divide, 2)
{
  const pipeline = defer(() => multiply(3, 2)).pipe(concatMap((x) => divide(x, 2)));
  console.log(`continuation: ${await submit(pipeline)}`); // 3
}

// ---- Fan out / Fan in ------------------------------------------------------------------------
// pipeline = in_parallel([multiply.send(3, 2), multiply.send(4, 5)])
{
  const pipeline = inParallel([() => multiply(3, 2), () => multiply(4, 5)]);
  console.log(`in_parallel: ${JSON.stringify(await submit(pipeline))}`); // [6,20]
}
// ... .continue_with(average)
{
  const pipeline = inParallel([() => multiply(3, 2), () => multiply(4, 5)]).pipe(map(average));
  console.log(`in_parallel + average: ${await submit(pipeline)}`); // 13
}
// Nesting: a continuation within in_parallel, and a nested in_parallel.
{
  const pipeline = inParallel([
    defer(() => multiply(3, 2)).pipe(concatMap((x) => divide(x, 2))), // continuation within in_parallel
    inParallel([() => multiply(4, 5), () => multiply(3, 4)]).pipe(map(average)), // nested in_parallel
  ]).pipe(map(average));
  console.log(`nested: ${await submit(pipeline)}`); // 9.5
}
// max_parallelism: a semaphore over the group.
{
  let running = 0;
  let most = 0;
  const slowMultiply = async (x, y) => {
    most = Math.max(most, ++running);
    await new Promise((resolve) => setTimeout(resolve, 1));
    running--;
    return x * y;
  };
  const pipeline = inParallel(
    Array.from({ length: 100 }, (_, i) => () => slowMultiply(i, 2)),
    { maxParallelism: 10 },
  );
  const results = await submit(pipeline);
  console.log(`max_parallelism: ${results.length} results, sum ${results.reduce((a, b) => a + b, 0)}, at most ${most} at once`);
}

// ---- The Introduction's workflow: average of the standard deviations of stock price series ----
// in_parallel([load_timeseries.send(stock).continue_with(compute_std_dev) for stock in stocks]).continue_with(compute_average)
const loadTimeseries = async (stock) => Array.from({ length: 5 }, (_, i) => 100 + ((stock.length * (i + 3)) % 7)); // stands in for a market-data call
// Self-contained (no outside helper), so that a stage can ship it to worker threads as source.
const computeStdDev = (prices) => {
  const mean = prices.reduce((a, b) => a + b, 0) / prices.length;
  return Math.sqrt(prices.reduce((a, p) => a + (p - mean) ** 2, 0) / prices.length);
};
const stocks = ['BT.L', 'DAIGn.DE', 'BP.L'];
{
  const pipeline = inParallel(stocks.map((stock) => defer(() => loadTimeseries(stock)).pipe(map(computeStdDev)))).pipe(map(average));
  console.log(`average std dev: ${(await submit(pipeline)).toFixed(4)}`);
}
// The same 1-N-1 workflow as a stream, each step a stage with its own workers (the std devs on threads).
{
  const pipeline = fromIterable(stocks).pipe(
    mapParallel(loadTimeseries, { workers: 3 }),
    mapParallel(computeStdDev, { scheduler: 'thread', workers: 2 }), // shipped to the threads as source
    toArray(),
    map(average),
  );
  console.log(`average std dev (stages): ${(await submit(pipeline)).toFixed(4)}`);
}

// ---- Passing State ---------------------------------------------------------------------------
// statefun keeps a pipeline's state beside it, passed from task to task: @tasks.bind(with_state=True).
// Here the state travels with the value, as [state, value].
{
  const multiplyWithState = async (_state, x, y) => [10, x * y]; // sets initial state
  const subtractPassing = async ([state, x], y) => [state, await subtract(x, y)]; // state is passed across
  const addState = async ([state, x]) => [state, state + x]; // accesses state
  const pipeline = defer(() => multiplyWithState(undefined, 3, 2)).pipe(
    concatMap((sx) => subtractPassing(sx, 1)), // 5
    concatMap(addState), // 15
    map(([, result]) => result),
  );
  console.log(`state: ${await submit(pipeline)}`); // 15
}

// ---- Error Handling: exceptionally and finally_do --------------------------------------------
const fail = async () => {
  throw new Error('I am supposed to fail');
};
const returnError = (error) => of(`Exception: ${error.message}`); // @tasks.bind() def handle_error(ex): ...
const returnValue = async (value) => `Value: ${value}`;
{
  // pipeline = multiply.send(3, 2).exceptionally(handle_error)
  const ok = defer(() => multiply(3, 2)).pipe(catchError(returnError));
  const failed = defer(fail).pipe(catchError(returnError));
  console.log(`exceptionally: ${await submit(ok)}; ${await submit(failed)}`); // 6; Exception: I am supposed to fail
}
{
  // pipeline = a.send().exceptionally(b).continue_with(c).exceptionally(d).finally_do(e)
  const log = [];
  const cleanup = async () => void log.push('cleanup');
  const pipeline = defer(fail).pipe(
    catchError(returnError), // b
    concatMap(returnValue), // c
    catchError(() => of('not reached')), // d
    finalizeAsync(cleanup), // e: runs, and is awaited, before the pipeline completes
  );
  console.log(`exceptionally ... finally_do: ${await submit(pipeline)} (then ${log.join(', ')})`);
}
{
  // pipeline = multiply.send(3, 2).finally_do(cleanup): finally_do is non-fruitful, the result is multiply's
  let cleaned = false;
  const pipeline = defer(() => multiply(3, 2)).pipe(
    finalizeAsync(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      cleaned = true;
    }),
  );
  console.log(`finally_do: ${await submit(pipeline)}, cleanup ran: ${cleaned}`); // 6, cleanup ran: true
}
{
  // An error, then finally_do: the cleanup runs, and the error is what the pipeline fails with.
  let cleaned = false;
  const pipeline = defer(fail).pipe(
    concatMap((x) => returnValue(x)),
    finalizeAsync(async () => void (cleaned = true)),
  );
  try {
    await submit(pipeline);
  } catch (error) {
    console.log(`finally_do after an error: ${error.message}, cleanup ran: ${cleaned}`);
  }
}

// ---- A parallel workflow and its failure (statefun's tests) ----------------------------------
const sayHello = async (first, last) => `Hello ${first} ${last}`;
const sayGoodbye = async (greeting, goodbyeMessage) => `${greeting}. So now I will say ${goodbyeMessage}`;
{
  let joined = false;
  const joinResults = (results) => ((joined = true), results.join('; '));
  const pipeline = inParallel([
    () => sayHello('John', 'Smith'),
    defer(() => sayHello('Jane', 'Doe')).pipe(concatMap((greeting) => sayGoodbye(greeting, 'see you later!'))),
  ]).pipe(map(joinResults));
  console.log(`parallel workflow: ${await submit(pipeline)}`);
  joined = false;
  const failing = inParallel([() => sayHello('John', 'Smith'), fail]).pipe(map(joinResults));
  try {
    await submit(failing);
  } catch (error) {
    console.log(`parallel workflow with an error: ${error.message}; join_results called: ${joined}`);
  }
}

// ---- Orchestrator tasks: tasks that return pipelines -----------------------------------------
// A task returning a pipeline is a function returning an Observable; concatMap runs what it returns.
{
  // Composition
  const multiplyAndSubtract = (a, b, c) => defer(() => multiply(a, b)).pipe(concatMap((x) => subtract(x, c)));
  const pipeline = defer(() => multiplyAndSubtract(3, 2, 1)).pipe(concatMap((x) => multiply(x, 10)));
  console.log(`composition: ${await submit(pipeline)}`); // (3 * 2 - 1) * 10 = 50
}
{
  // Conditional execution: a task returns either a value or another pipeline.
  const makePositive = (x) => (x > 0 ? of(x) : defer(() => multiply(x, -1)));
  const addPositive = (x, y) => defer(() => add(x, y)).pipe(concatMap(makePositive));
  console.log(`conditional: ${await submit(addPositive(-3, 2))}`); // 1
}
{
  // Recursion
  const countTo100 = (x) => defer(() => add(x, 1)).pipe(concatMap(checkResult));
  const checkResult = (x) => (x === 100 ? of(x) : countTo100(x)); // recursive
  console.log(`recursion: ${await submit(countTo100(0))}`); // 100
  // The same loop without nesting: RxJS's expand feeds each result back until it returns EMPTY.
  const counted = of(0).pipe(expand((x) => (x === 100 ? EMPTY : defer(() => add(x, 1)))), last());
  console.log(`recursion with expand: ${await submit(counted)}`); // 100
}

// ---- A pipeline per element of a stream ------------------------------------------------------
// statefun submits one pipeline per request; a stage can run one per element, several at once.
{
  const requests = fromIterable([[3, 2], [4, 5], [6, 7]]);
  const results = requests.pipe(
    mapParallel(([x, y]) => firstValueFrom(inParallel([() => multiply(x, y), () => add(x, y)])), { workers: 2, ordered: true }),
  );
  console.log(`per element: ${JSON.stringify(await lastValueFrom(results.pipe(toArray())))}`); // [[6,5],[20,9],[42,13]]
}
