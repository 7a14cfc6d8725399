import { ChangeDetectionStrategy, Component, DestroyRef, inject, PendingTasks } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { finalize, scan } from 'rxjs';
import { fromIterable, mapParallel, task, taskScheduler, threadScheduler, type Scheduler, type StageFn } from 'rxjs-parallel';
import { score, type Scored } from './score';

const TOTAL = 24;

/**
 * Web Workers where the platform has them; the task scheduler (this event loop) where it has not,
 * as under server-side rendering. The `new Worker(new URL(...))` expression is written here, in the
 * app, for the Angular CLI to find and bundle score.worker.ts.
 */
function pipelineSetup(): { scheduler: Scheduler; fn: StageFn<number, Scored> } {
  if (typeof Worker === 'undefined') return { scheduler: taskScheduler(), fn: score };
  const scheduler = threadScheduler({
    workers: 4,
    createWorker: () => new Worker(new URL('./score.worker', import.meta.url), { type: 'module' }),
  });
  return { scheduler, fn: task<number, Scored>('score') }; // by the name score.worker.ts exposes
}

interface Progress {
  done: number;
  results: Scored[];
}

@Component({
  selector: 'app-root',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h1>Scores on {{ scheduler.kind === 'thread' ? 'Web Workers' : 'the task scheduler' }}</h1>
    <progress [value]="progress().done" [max]="total"></progress>
    <p id="progress" [attr.data-kind]="scheduler.kind">{{ progress().done }} / {{ total }}</p>
    <ol id="results">
      @for (result of progress().results; track result.n) {
        <li [attr.data-n]="result.n" [attr.data-score]="result.score" [attr.data-realm]="result.realm">
          {{ result.n }}: {{ result.score }} ({{ result.realm }})
        </li>
      }
    </ol>
  `,
})
export class ScoresComponent {
  readonly total = TOTAL;
  private readonly setup = pipelineSetup();
  readonly scheduler = this.setup.scheduler;

  /** Progress and results, as a signal: one more result each time the pipeline emits. */
  readonly progress = toSignal(this.scores(), { initialValue: { done: 0, results: [] } satisfies Progress });

  constructor() {
    inject(DestroyRef).onDestroy(() => void this.scheduler.close());
  }

  private scores() {
    // The app is not stable (server-side rendering waits for it) until the pipeline has finished.
    const finished = inject(PendingTasks).add();
    return fromIterable(Array.from({ length: TOTAL }, (_, n) => n)).pipe(
      mapParallel(this.setup.fn, { scheduler: this.scheduler, workers: 4, ordered: true }),
      scan((progress: Progress, scored) => ({ done: progress.done + 1, results: [...progress.results, scored] }), { done: 0, results: [] }),
      finalize(finished),
    );
  }
}
