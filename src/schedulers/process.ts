// Placeholder until the process scheduler lands (issue 3).
import type { Scheduler } from './scheduler.js';

export interface ProcessSchedulerOptions {
  workers?: number;
}

export function processScheduler(_options: ProcessSchedulerOptions = {}): Scheduler {
  throw new Error('processScheduler is not implemented yet');
}
