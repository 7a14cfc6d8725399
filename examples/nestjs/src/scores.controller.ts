import { Controller, Get, MessageEvent, ParseIntPipe, Query, Sse, UseInterceptors } from '@nestjs/common';
import { map, takeUntil, type Observable } from 'rxjs';
import { fromIterable, mapParallel, task, type EndContext, type Scheduler, type StartContext } from 'rxjs-parallel';
import { InjectScheduler, ParallelService } from 'rxjs-parallel/nestjs';
import { ChecksumInterceptor } from './checksum.interceptor.js';
import { tasksModule } from './task-modules.cjs';
import type { Report, Scored, Tally } from './tasks.js';

const score = task<number, Scored>(tasksModule, 'score');
const onStart = task<StartContext, Tally>(tasksModule, 'open');
const onEnd = task<EndContext<Tally>, void>(tasksModule, 'close');

@Controller()
export class ScoresController {
  constructor(
    @InjectScheduler('cpu') private readonly cpu: Scheduler,
    @InjectScheduler('io') private readonly io: Scheduler,
    private readonly parallel: ParallelService,
  ) {}

  /**
   * Server-sent events: the scores of 0 .. count − 1, in order, as the worker threads compute them.
   * The stream ends when it is done, when the client goes away, or when the app shuts down.
   */
  @Sse('scores')
  scores(@Query('count', new ParseIntPipe({ optional: true })) count = 8): Observable<MessageEvent> {
    return fromIterable(numbers(count)).pipe(
      mapParallel(lookUp, { name: 'look-up', scheduler: this.io, workers: 4 }),
      mapParallel(score, { name: 'score', scheduler: this.cpu, workers: 4, ordered: true, onStart, onEnd }),
      takeUntil(this.parallel.shutdown$),
      map((scored) => ({ data: scored })),
    );
  }

  /** A plain array; ChecksumInterceptor adds each report's checksum, computed on the worker threads. */
  @Get('reports')
  @UseInterceptors(ChecksumInterceptor)
  reports(@Query('count', new ParseIntPipe({ optional: true })) count = 10): Report[] {
    return Array.from({ length: count }, (_, id) => ({ id, title: `Report ${id}` }));
  }
}

function* numbers(count: number): Generator<number> {
  for (let n = 0; n < count; n++) yield n;
}

/** Stands in for an I/O call (a cache, a database) on the task scheduler, in this event loop. */
async function lookUp(n: number): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  return n;
}
