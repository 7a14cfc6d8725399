/**
 * rxjs-parallel for NestJS: `ParallelModule` provides the app's schedulers by name, starts their
 * workers when the app boots and closes them when it shuts down; `@InjectScheduler(name)` injects
 * one. `@nestjs/common` is an optional peer dependency of rxjs-parallel, loaded only by this entry.
 * @module
 */
export {
  ParallelModule,
  InjectScheduler,
  getSchedulerToken,
  PARALLEL_MODULE_OPTIONS,
  type ParallelModuleForRootOptions,
  type ParallelModuleForRootAsyncOptions,
} from './parallel.module.js';
export { ParallelService, type ParallelModuleOptions } from './parallel.service.js';
export type { SchedulerConfig, SchedulerEntry, SchedulerKinds } from './kinds.js';
