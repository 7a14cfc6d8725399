import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { mergeMap, of, toArray, type Observable } from 'rxjs';
import { fromIterable, mapParallel, task, type Scheduler } from 'rxjs-parallel';
import { InjectScheduler } from 'rxjs-parallel/nestjs';
import { tasksModule } from './task-modules.cjs';
import type { Report } from './tasks.js';

const withChecksum = task<Report, Report & { checksum: string }>(tasksModule, 'withChecksum');

/** Runs a handler's array response through a parallel stage on the `cpu` threads, in order. */
@Injectable()
export class ChecksumInterceptor implements NestInterceptor {
  constructor(@InjectScheduler('cpu') private readonly cpu: Scheduler) {}

  intercept(_context: ExecutionContext, next: CallHandler<unknown>): Observable<unknown> {
    return next.handle().pipe(
      mergeMap((body) =>
        Array.isArray(body)
          ? fromIterable(body as Report[]).pipe(mapParallel(withChecksum, { scheduler: this.cpu, ordered: true }), toArray())
          : of(body),
      ),
    );
  }
}
