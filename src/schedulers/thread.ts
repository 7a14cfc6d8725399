// Placeholder until the thread scheduler lands (issue 3).
import type { Scheduler } from './scheduler.js';

export interface ThreadSchedulerOptions {
  workers?: number;
}

export function threadScheduler(_options: ThreadSchedulerOptions = {}): Scheduler {
  throw new Error('threadScheduler is not implemented yet');
}
