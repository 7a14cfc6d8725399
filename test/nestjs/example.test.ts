// The NestJS example (examples/nestjs), installed from its own lock file with this build of
// rxjs-parallel packed, built with its own TypeScript, and run for real: on NestJS 11 compiled to
// CommonJS (examples/nestjs) and on NestJS 12 as ES modules (examples/nestjs/esm, the same sources).
// The test calls it over HTTP on a free loopback port, reads its server-sent events, checks the
// values and the threads that computed them, then sends SIGTERM and checks that the app ends its
// running stream, runs every onEnd, closes every worker thread and exits by itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installExample, node, repo } from '../support/examples.js';
import { deferred } from '../support/util.js';

/** A cold CI box downloads the example's packages once (about 20 s here from the npm cache). */
const SETUP_TIMEOUT = 10 * 60_000;
const census = join(repo, 'test/fixtures/worker-census.cjs');

const flavours = [
  { dir: 'examples/nestjs', nest: 11, modules: 'CommonJS' },
  { dir: 'examples/nestjs/esm', nest: 12, modules: 'ES modules' },
] as const;

/** The example app, running: its output line by line, its threads, its exit. */
interface App {
  readonly url: string;
  readonly lines: string[];
  /** Threads the census saw made, and those it saw exit. */
  readonly started: number[];
  readonly exited: number[];
  readonly child: ChildProcess;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node dist/main.js` on port 0 (the system picks a free one) and waits until it listens. */
function startApp(dir: string): Promise<App> {
  const child = spawn(process.execPath, ['--require', census, 'dist/main.js'], {
    cwd: join(repo, dir),
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const started: number[] = [];
  const exited: number[] = [];
  const listening = deferred<string>();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  let pending = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      lines.push(line);
      const census = /^\[census\] worker (\d+) (started|exited)/.exec(line);
      if (census) (census[2] === 'started' ? started : exited).push(Number(census[1]));
      const url = /Listening on (http:\/\/127\.0\.0\.1:\d+) \(([^)]+)\)/.exec(line);
      if (url) listening.resolve(url[1]);
    }
  });
  void exit.then(({ code, signal }) => listening.reject(new Error(`the app exited (${code ?? signal}) before listening\n${lines.join('\n')}\n${stderr}`)));
  return listening.promise.then((url) => ({ url, lines, started, exited, child, exit }));
}

/** The events of a server-sent event stream, as they arrive; `stop()` returns once it has ended. */
async function readEvents(response: Response, onEvent: (event: { event?: string; data: string }) => void): Promise<void> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    pending += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = pending.indexOf('\n\n')) >= 0) {
      const block = pending.slice(0, end);
      pending = pending.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      onEvent({ event, data });
    }
  }
}

/** Resolves once `condition()` holds, checking it each time the app prints (the test's timeout bounds the wait). */
function until(app: App, condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!condition()) return;
      app.child.stdout!.off('data', check);
      resolve();
    };
    app.child.stdout!.on('data', check); // after startApp's own listener, which splits the lines
    check();
  });
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What examples/nestjs/src/tasks.ts computes for `n`, computed here. */
function expectedScore(n: number): string {
  let hash = String(n);
  for (let i = 0; i < 2000; i++) hash = sha256(hash);
  return hash;
}

interface Scored {
  n: number;
  score: string;
  threadId: number;
}

for (const { dir, nest, modules } of flavours) {
  describe(`${dir}: NestJS ${nest}, ${modules}`, () => {
    let app: App | undefined;

    beforeAll(async () => {
      await installExample(dir, SETUP_TIMEOUT);
      const cwd = join(repo, dir);
      rmSync(join(cwd, 'dist'), { recursive: true, force: true });
      await node([join(cwd, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], cwd, SETUP_TIMEOUT); // its `npm run build`
      app = await startApp(dir);
    }, SETUP_TIMEOUT);

    afterAll(() => {
      if (app && app.child.exitCode === null && app.child.signalCode === null) app.child.kill('SIGKILL');
    });

    it(`runs on the NestJS ${nest} it installed, as ${modules}, with the cpu workers started before it listened`, () => {
      const installed = JSON.parse(readFileSync(join(repo, dir, 'node_modules/@nestjs/core/package.json'), 'utf8'));
      expect(Number(installed.version.split('.')[0])).toBe(nest);
      const listening = app!.lines.findIndex((line) => line.includes('Listening on'));
      expect(app!.lines[listening]).toContain(`(${modules})`);
      // ParallelModule.forRoot({ schedulers: { cpu: { kind: 'thread', workers: 4 } } }): warm at bootstrap.
      const before = app!.lines.slice(0, listening);
      expect(before.filter((line) => line.startsWith('[census] worker') && line.endsWith('started'))).toHaveLength(4);
      expect(before.some((line) => line.includes('Scheduler "cpu": 4 thread workers started'))).toBe(true);
    });

    it('streams the scores over server-sent events, in order, computed on its worker threads', async () => {
      const response = await fetch(`${app!.url}/scores?count=12`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const events: { event?: string; data: string }[] = [];
      await readEvents(response, (event) => events.push(event));
      const scored = events.map((event) => JSON.parse(event.data) as Scored);
      expect(scored.map(({ n, score }) => ({ n, score }))).toEqual(Array.from({ length: 12 }, (_, n) => ({ n, score: expectedScore(n) })));
      for (const { threadId } of scored) expect(app!.started).toContain(threadId); // a worker thread of the app, not its main thread (0)
      expect(app!.started).toHaveLength(4); // the warm workers served it
    });

    it('runs a response array through mapParallel in an interceptor, on the worker threads, in order', async () => {
      const response = await fetch(`${app!.url}/reports?count=20`);
      expect(response.status).toBe(200);
      const reports = (await response.json()) as { id: number; title: string; checksum: string; threadId: number }[];
      expect(reports.map(({ id, title, checksum }) => ({ id, title, checksum }))).toEqual(
        Array.from({ length: 20 }, (_, id) => ({ id, title: `Report ${id}`, checksum: sha256(JSON.stringify({ id, title: `Report ${id}` })) })),
      );
      for (const { threadId } of reports) expect(app!.started).toContain(threadId);
    });

    it('ends the pipeline when the client goes away: each worker of the stream runs its onEnd', async () => {
      const from = app!.lines.length;
      const aborted = new AbortController();
      const response = await fetch(`${app!.url}/scores?count=1000000`, { signal: aborted.signal });
      const threeIn = deferred();
      let received = 0;
      const reading = readEvents(response, () => {
        if (++received === 3) threeIn.resolve();
      }).catch(() => {}); // ends with an AbortError
      await threeIn.promise;
      aborted.abort();
      await reading;
      const released = /^score: worker (\d) \(thread \d+\) released after \d+ elements$/;
      await until(app!, () => app!.lines.slice(from).filter((line) => released.test(line)).length >= 4);
      const ends = app!.lines.slice(from).filter((line) => released.test(line));
      expect(ends.map((line) => Number(released.exec(line)![1])).sort()).toEqual([0, 1, 2, 3]);
    });

    it('on SIGTERM, ends the stream still running (every onEnd runs), closes every worker and exits by itself', async () => {
      const count = 1_000_000; // far more than it can score before the signal: the stream is cut short
      const response = await fetch(`${app!.url}/scores?count=${count}`);
      const received: { event?: string; data: string }[] = [];
      const threeIn = deferred();
      const ended = readEvents(response, (event) => {
        received.push(event);
        if (received.length === 3) threeIn.resolve();
      });
      await threeIn.promise;
      const signalled = app!.lines.length;
      app!.child.kill('SIGTERM');
      await ended; // the stream completed (takeUntil(shutdown$)), it did not break
      const { code, signal } = await app!.exit;
      // Nest's shutdown hook closes the app, then signals itself again with SIGTERM to end.
      expect(code === 0 || signal === 'SIGTERM').toBe(true);

      expect(received.length).toBeGreaterThanOrEqual(3);
      expect(received.length).toBeLessThan(count);
      expect(received.every((event) => event.event === undefined)).toBe(true); // no `event: error`
      expect(received.map((event) => (JSON.parse(event.data) as Scored).n)).toEqual(received.map((_, n) => n));

      const lines = app!.lines.slice(signalled);
      // The 4 workers of the stream's `score` stage ran their onEnd, in the worker threads.
      const ends = lines.filter((line) => /^score: worker \d \(thread \d+\) released after \d+ elements$/.test(line));
      expect(ends.map((line) => Number(/worker (\d)/.exec(line)![1])).sort()).toEqual([0, 1, 2, 3]);
      expect(lines.some((line) => line.includes('Scheduler "cpu" closed'))).toBe(true);
      expect(lines.some((line) => line.includes('Scheduler "io" closed'))).toBe(true);
      // Every worker thread the app made had exited before the process ended.
      expect(app!.started).toHaveLength(4);
      expect([...app!.exited].sort()).toEqual([...app!.started].sort());
    });
  });
}
