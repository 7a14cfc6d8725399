import type { Scheduler, SchedulerName } from './scheduler.js';
import { syncScheduler } from './sync.js';
import { taskScheduler } from './task.js';
import { threadScheduler } from './thread.js';
import { processScheduler } from './process.js';

/**
 * The scheduler of one stage subscription. A name makes a private scheduler sized to the stage,
 * which the stage closes when the subscription ends; an instance is shared and left open.
 * @internal
 */
export function resolveScheduler(option: Scheduler | SchedulerName, workers: number | undefined): { scheduler: Scheduler; owned: boolean } {
  switch (option) {
    case 'task':
      return { scheduler: taskScheduler(), owned: true };
    case 'sync':
      return { scheduler: syncScheduler(), owned: true };
    case 'thread':
      return { scheduler: threadScheduler({ workers }), owned: true };
    case 'process':
      return { scheduler: processScheduler({ workers }), owned: true };
    default:
      return { scheduler: option, owned: false };
  }
}
