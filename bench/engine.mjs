// Scenario 1b — the engine A/B: the stage engine alone (`x + 1` inline, sync scheduler), as built
// now and as built from the baseline commit, in a process of their own. Apart from the other rows
// of the dispatch scenario on purpose: there our engine shares its code with the task, thread and
// process rows run before it, and V8 optimizes it for all of them, while the baseline's copy only
// ever runs this one row; here both copies are measured as the one thing their process runs.
//   node bench/engine.mjs [--quick] [--n=200000] [--run=0]
import { emitResult, isMain, parseArgs } from './lib/common.mjs';
import { runOnce as dispatchOnce } from './dispatch.mjs';

/**
 * How each copy is warmed before it is timed: WARM_RUNS pipelines of WARM elements, each subscribed
 * anew, as a service subscribes a pipeline per request. V8 reaches the engine's steady rate only once
 * it has seen a few subscriptions (each brings new closures, whose first appearance throws away code
 * optimized for the previous ones) and about a million elements: one long warm-up run leaves the
 * timed run, a new subscription, still being optimized; so would the dispatch scenario's warm-up.
 */
const WARM = 400_000;
const WARM_RUNS = 5;
/**
 * Timed rounds: once both copies are warm, each round times one pipeline of each, in an order that
 * alternates, and each copy's figure is the median of its rounds. The two copies share no code (each
 * is its own module graph), so timing them in turn costs neither its optimized code; it puts both
 * into the same seconds of a host whose speed moves from second to second.
 */
const ROUNDS = 7;

export const meta = {
  id: 'engine',
  title: 'The engine against its baseline',
  about:
    'The `engine` row of the dispatch scenario (a trivial `x + 1` run inline by the sync scheduler over N elements: ' +
    'no transport and no scheduling: each element is called and emitted within the source\'s `next`), beside the same ' +
    'row run by the library as built from an earlier commit (bench/run.mjs `--baseline`, by default the engine the ' +
    'target was set against: the code of the 2026-11-23 run), the two alone in a fresh process, their order rotating from run to run, ' +
    `each warmed with ${WARM_RUNS} pipelines of ${WARM.toLocaleString('en-US')} elements before it is timed (V8 reaches the engine's steady rate only after a few subscriptions and about a million elements), ` +
    `then timed in up to ${ROUNDS} rounds of one pipeline each, taking turns, each figure the median of its rounds: how much the ` +
    "engine's own per-element cost has changed since. (In the dispatch scenario our engine runs after rows that use " +
    'the same code with other schedulers, and V8 optimizes it for all of them; the baseline copy would not be.)',
  unit: 'elements/s',
  better: 'higher',
  rows: {
    'engine': "ours: the stage engine alone (`x + 1` inline, `scheduler: 'sync'`)",
    'engine-baseline': 'ours at the baseline commit: the stage engine alone, as `engine`',
  },
  ratios: [['engine', 'engine-baseline']],
  targets: [{ ratio: ['engine', 'engine-baseline'], min: 2, label: "the stage engine alone (sync scheduler), elements/s vs the baseline commit's, same run" }],
};


export async function runOnce(options = {}) {
  const result = await dispatchOnce({ ...options, warm: WARM, warmRuns: WARM_RUNS, repeat: ROUNDS, interleave: true, only: ['engine', 'engine-baseline'] });
  return { ...result, scenario: meta.id };
}

if (isMain(import.meta.url)) {
  const args = parseArgs();
  emitResult(await runOnce({ quick: !!args.quick, n: args.n && Number(args.n), run: Number(args.run ?? 0) }));
}
