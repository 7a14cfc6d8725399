#!/usr/bin/env node
// `rxjs-parallel-worker`: serves the TaskRef modules it is started with to natsScheduler stages,
// over NATS JetStream. See `rxjs-parallel-worker --help` and docs/distributed.md.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { InvalidOptionError } from '../errors.js';
import { moduleUrl } from '../internal/module-url.js';
import { isStreamName, isSubjectPrefix, NATS_DEFAULTS, resolveConnection } from './options.js';
import { WorkerHost } from './worker/host.js';
import type { ThreadReport } from './worker/thread-entry.js';

const HELP = `Usage: rxjs-parallel-worker [options] <module> [<module> ...]

Serves the exports of the given modules to rxjs-parallel stages that run on
natsScheduler({ stream }): takes worker slots from the stream's work queue while
it has free ones, and runs each in a worker thread of its own. A TaskRef names a
module by its URL; where the path differs from the producer's, by its file name.

Options:
  -s, --servers <urls>     NATS servers, comma separated (env NATS_URL)
                           [default: ${NATS_DEFAULTS.servers}]
      --stream <name>      the JetStream stream of natsScheduler({ stream }) (required)
      --subject <prefix>   the stream's subject prefix, as natsScheduler's subject
                           [default: the stream's name]
  -c, --concurrency <n>    slots (worker threads) held at once
                           [default: the CPUs this process may use]
      --allow-source       also run plain functions sent as source text; they run
                           code chosen by anyone who can publish to the stream:
                           TRUSTED NETWORKS ONLY [default: off: only the modules above]
      --end-timeout <ms>   how long onEnd may take when a slot ends without its stage
                           (its producer is gone, or this worker stops) [default: 10000]
      --user <name>        user name (env NATS_USER)
      --password <secret>  password (env NATS_PASSWORD)
      --token <secret>     authentication token (env NATS_TOKEN)
      --nkey <file>        file holding an nkey seed (env NATS_NKEY)
      --creds <file>       a .creds file: user JWT and seed (env NATS_CREDS)
      --tlscert <file>     client certificate, PEM (env NATS_CERT)
      --tlskey <file>      its private key, PEM (env NATS_KEY)
      --tlsca <file>       certificate authorities to trust, PEM (env NATS_CA)
      --tlsfirst           TLS before the NATS handshake (server's handshake_first)
      --name <name>        connection name shown by the server [default: rxjs-parallel-worker]
  -h, --help               this text

SIGTERM or SIGINT drains: the worker takes no more slots, finishes the elements it
has started, gives the others back (their stages send them to other workers), runs
onEnd, and exits 0. A second signal exits at once.`;

function fail(message: string): never {
  process.stderr.write(`rxjs-parallel-worker: ${message}\n(see rxjs-parallel-worker --help)\n`);
  process.exit(2);
}

const log = (line: string) => process.stderr.write(`rxjs-parallel-worker: ${line}\n`);

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        servers: { type: 'string', short: 's' },
        stream: { type: 'string' },
        subject: { type: 'string' },
        concurrency: { type: 'string', short: 'c' },
        'allow-source': { type: 'boolean' },
        'end-timeout': { type: 'string' },
        user: { type: 'string' },
        password: { type: 'string' },
        token: { type: 'string' },
        nkey: { type: 'string' },
        creds: { type: 'string' },
        tlscert: { type: 'string' },
        tlskey: { type: 'string' },
        tlsca: { type: 'string' },
        tlsfirst: { type: 'boolean' },
        name: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }

  const env = process.env;
  const stream = v.stream;
  if (!stream) fail('--stream is required');
  if (!isStreamName(stream)) fail(`--stream must be a JetStream stream name (letters, digits, - and _), got "${stream}"`);
  const subject = v.subject ?? stream;
  if (!isSubjectPrefix(subject)) fail(`--subject must be a NATS subject without wildcards, got "${subject}"`);
  const concurrency = v.concurrency === undefined ? availableParallelism() : Number(v.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) fail(`--concurrency must be an integer ≥ 1, got "${v.concurrency}"`);
  const endTimeout = v['end-timeout'] === undefined ? 10_000 : Number(v['end-timeout']);
  if (!Number.isFinite(endTimeout) || endTimeout < 0) fail(`--end-timeout must be a number of milliseconds ≥ 0, got "${v['end-timeout']}"`);
  if (positionals.length === 0) fail('name at least one module to serve');
  const modules = positionals.map((spec) => {
    const url = /^file:/.test(spec) ? new URL(spec) : pathToFileURL(resolve(spec));
    if (!existsSync(fileURLToPath(url))) fail(`no module at ${fileURLToPath(url)}`);
    return url.href;
  });

  const file = (path: string | undefined, what: string) => {
    if (path !== undefined && !existsSync(path)) fail(`${what}: no file at ${path}`);
    return path;
  };
  const tls = {
    certFile: file(v.tlscert ?? env.NATS_CERT, '--tlscert'),
    keyFile: file(v.tlskey ?? env.NATS_KEY, '--tlskey'),
    caFile: file(v.tlsca ?? env.NATS_CA, '--tlsca'),
    handshakeFirst: v.tlsfirst || undefined,
  };
  const nkeyFile = file(v.nkey ?? env.NATS_NKEY, '--nkey');
  let connection;
  try {
    connection = resolveConnection(
      drop({
        servers: v.servers ?? env.NATS_URL,
        user: v.user ?? env.NATS_USER,
        pass: v.password ?? env.NATS_PASSWORD,
        token: v.token ?? env.NATS_TOKEN,
        nkeySeed: nkeyFile === undefined ? undefined : readFileSync(nkeyFile, 'utf8'),
        credentials: file(v.creds ?? env.NATS_CREDS, '--creds'),
        tls: Object.values(tls).some((x) => x !== undefined) ? drop(tls) : undefined,
        name: v.name ?? 'rxjs-parallel-worker',
      }),
    );
  } catch (error) {
    if (error instanceof InvalidOptionError) fail(`--${flagOf(error.option)}: expected ${error.expected}`);
    throw error;
  }

  // The thread entry sits beside this file's bundle in dist/esm/nats/ (the CommonJS build uses the same one).
  const threadEntry = new URL('../nats/worker-thread.cjs', moduleUrl.replace(/\/cjs\/internal\/module-url\.js$/, '/esm/internal/module-url.js'));

  // Load the modules once in a thread before taking any work, so that a broken module fails here, loudly.
  const loaded = await new Promise<ThreadReport>((done) => {
    const probe = new Worker(threadEntry, { workerData: { modules, allowSource: false, probe: true } });
    probe.once('message', done);
    probe.once('error', (error) => done({ loadFailed: `${error.name}: ${error.message}` }));
    probe.once('exit', () => done({ loadFailed: 'the thread exited while loading the modules' }));
  });
  if ('loadFailed' in loaded) fail(`cannot load the modules: ${loaded.loadFailed}`);

  const host = new WorkerHost({ connection, stream, subject, concurrency, modules, allowSource: v['allow-source'] ?? false, endTimeout, threadEntry, log });
  try {
    await host.start();
  } catch (error) {
    log(`cannot start: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    process.exit(1);
  }
  let signals = 0;
  const stop = (signal: string) => {
    if (++signals > 1) {
      log(`${signal} again: exiting now`);
      process.exit(1);
    }
    log(`${signal}: draining`);
    void host.drain().then(() => {
      log('drained; exiting');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Ready only once a signal drains: a supervisor may stop the worker as soon as it reads this.
  log(
    `ready: serving ${modules.length} module(s) on stream "${stream}" at ${connection.servers.join(', ')}, concurrency ${concurrency}` +
      (v['allow-source'] ? ', ALLOWING SOURCE TEXT (trusted networks only)' : ''),
  );
}

function drop<T extends Record<string, unknown>>(o: T): T {
  for (const key of Object.keys(o)) if (o[key] === undefined) delete o[key];
  return o;
}

function flagOf(option: string): string {
  return ({ pass: 'password', nkeySeed: 'nkey', credentials: 'creds' } as Record<string, string>)[option] ?? option;
}

void main();
