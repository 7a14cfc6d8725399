import {
  ConfigurableModuleBuilder,
  Inject,
  Module,
  type ConfigurableModuleAsyncOptions,
  type DynamicModule,
  type FactoryProvider,
} from '@nestjs/common';
import { checkOptions, createParallelService, ParallelService, type ParallelModuleOptions } from './parallel.service.js';

// Nest's decorators are applied as calls in this entry (`Module(...)(ParallelModule)`), not as
// `@Module(...)`: the library compiles without `experimentalDecorators`, and nothing here needs
// the constructor metadata that `emitDecoratorMetadata` writes (every injection names its token).

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } =
  new ConfigurableModuleBuilder<ParallelModuleOptions>({ optionsInjectionToken: 'rxjs-parallel:options' })
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();

/** The injection token of the module's options (what `forRoot` was given, or `useFactory` returned). */
export const PARALLEL_MODULE_OPTIONS: string | symbol = MODULE_OPTIONS_TOKEN;

/**
 * What `ParallelModule.forRoot()` takes: the {@link ParallelModuleOptions}, and `isGlobal` (default
 * `false`): `true` provides the schedulers to every module of the app, without importing
 * `ParallelModule` there.
 */
export type ParallelModuleForRootOptions = ParallelModuleOptions & { isGlobal?: boolean };
/**
 * What `ParallelModule.forRootAsync()` takes: `imports`, `inject` and `useFactory` (or `useClass`
 * or `useExisting`, whose `create()` returns the options), and `isGlobal`.
 */
export type ParallelModuleForRootAsyncOptions = ConfigurableModuleAsyncOptions<ParallelModuleOptions> & { isGlobal?: boolean };

/**
 * The injection token of the scheduler named `name`, for a provider of the app's own.
 * `@InjectScheduler(name)` is `@Inject(getSchedulerToken(name))`.
 */
export function getSchedulerToken(name: string): string {
  return `rxjs-parallel:scheduler:${name}`;
}

/** Names passed to `@InjectScheduler()`: `forRootAsync()`, which cannot see its options' names, provides these. */
const injected = new Set<string>();

/**
 * Injects the scheduler named `name` in the options of `ParallelModule`.
 *
 * ```ts
 * @Controller('scores')
 * export class ScoresController {
 *   constructor(@InjectScheduler('cpu') private readonly cpu: Scheduler) {}
 * }
 * ```
 * @param name A key of the module's `schedulers`.
 * @returns A parameter (or property) decorator.
 * @see ParallelModule, ParallelService
 */
export function InjectScheduler(name: string): PropertyDecorator & ParameterDecorator {
  injected.add(name);
  return Inject(getSchedulerToken(name));
}

/**
 * A Nest module that provides the app's schedulers by name, built with Nest's
 * `ConfigurableModuleBuilder` (the shape of `ConfigModule` and `BullModule`). The workers of each
 * thread or process pool start when the app boots (`onApplicationBootstrap`), and every scheduler
 * is closed when it shuts down (`beforeApplicationShutdown`: `app.close()`, or SIGTERM after
 * `app.enableShutdownHooks()`), so that the process exits with no worker left.
 *
 * ```ts
 * @Module({
 *   imports: [
 *     ParallelModule.forRoot({
 *       schedulers: { cpu: { kind: 'thread', workers: 4 }, io: { kind: 'task' } },
 *       isGlobal: true,
 *     }),
 *   ],
 * })
 * export class AppModule {}
 *
 * // or, from configuration:
 * ParallelModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({
 *     schedulers: { cpu: { kind: 'thread', workers: config.get('CPU_WORKERS') } },
 *   }),
 * });
 * ```
 * Each scheduler is injected with `@InjectScheduler(name)`, or found by name on the
 * {@link ParallelService}. `forRoot()` checks its options when called, `forRootAsync()` when the
 * app starts; a bad one throws `InvalidOptionError` naming it (`schedulers.cpu.workers`).
 * `forRootAsync()` provides for injection the names used with `@InjectScheduler()` in the app's
 * modules (all of them, when the app's modules are imported before it runs, as usual).
 * @see InjectScheduler, ParallelService, threadScheduler
 */
export class ParallelModule extends ConfigurableModuleClass {
  /**
   * The module with the schedulers of `options`.
   * @param options `{ schedulers, isGlobal? }`.
   * @returns The dynamic module to list in `imports`.
   * @throws `InvalidOptionError` for a bad option, naming it (`schedulers.cpu.workers`).
   */
  static forRoot(options: ParallelModuleForRootOptions): DynamicModule {
    checkOptions(options);
    return withSchedulers(super.forRoot(options), Object.keys(options.schedulers));
  }

  /**
   * The module with the schedulers of the options `useFactory` returns (or `useClass`'s
   * `create()`), checked when the app starts.
   * @param options `{ imports?, inject?, useFactory, isGlobal? }`.
   * @returns The dynamic module to list in `imports`.
   */
  static forRootAsync(options: ParallelModuleForRootAsyncOptions): DynamicModule {
    return withSchedulers(super.forRootAsync(options), [...injected]);
  }
}

const service: FactoryProvider<Promise<ParallelService>> = {
  provide: ParallelService,
  useFactory: createParallelService,
  inject: [MODULE_OPTIONS_TOKEN],
};

Module({ providers: [service], exports: [ParallelService] })(ParallelModule);

/** Adds a provider per scheduler name, each the scheduler of that name on the service. */
function withSchedulers(definition: DynamicModule, names: readonly string[]): DynamicModule {
  const providers: FactoryProvider<unknown>[] = names.map((name) => ({
    provide: getSchedulerToken(name),
    useFactory: (parallel: ParallelService) => parallel.scheduler(name),
    inject: [ParallelService],
  }));
  return {
    ...definition,
    providers: [...(definition.providers ?? []), ...providers],
    exports: [...(definition.exports ?? []), ...providers.map((provider) => provider.provide)],
  };
}
