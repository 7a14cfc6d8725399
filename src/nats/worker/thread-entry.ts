// The file each worker thread of `rxjs-parallel-worker` runs (bundled by scripts/build.mjs into
// dist/esm/nats/worker-thread.cjs): the same runtime as a threadScheduler thread (src/worker/runtime.ts),
// behind a port that takes and gives v8-serialized bytes (the main thread moves them to and from
// NATS unread), admits only the functions the worker serves, and can drain or end every lease on
// the main thread's word.
import { parentPort, workerData } from 'node:worker_threads';
import { deserialize, serialize } from 'node:v8';
import { importModule } from '../../internal/import-module.js';
import type { StageStatus } from '../../shared/context.js';
import { serve, type WorkerPort } from '../../worker/runtime.js';
import {
  CLOSE,
  END,
  ENDED,
  R_PART,
  R_RUNNING,
  RECLAIM,
  RECLAIMED,
  RESULTS,
  RESULTS_NUMBERS,
  RESULTS_RANGE,
  RUN,
  RUN_NUMBERS,
  RUN_RANGE,
  rangePayloads,
  START,
  START_FAILED,
  STARTED,
  toWireError,
  type WireWork,
} from '../../worker/protocol.js';
import { checkPayload } from '../frames.js';
import { admit, type ServePolicy } from './policy.js';

/** What the main thread tells a slot's thread besides protocol bytes. */
export type ThreadControl = { readonly drain: true } | { readonly end: StageStatus };
/** What a slot's thread tells the main thread besides protocol bytes. */
export type ThreadReport = { readonly loaded: true } | { readonly drained: true } | { readonly loadFailed: string };

interface Data extends ServePolicy {
  /** Only load the modules, report, and exit (the command checks its modules at start). */
  readonly probe?: boolean;
  /** The NATS server's max_payload, which a message to the producer must not exceed. */
  readonly maxPayload?: number;
}

if (!parentPort) throw new Error('rxjs-parallel: the NATS worker thread entry runs in a worker thread only');
const main = parentPort;
const data = workerData as Data;

/** A lease this thread runs, as seen on the wire: enough to drain it or end it. */
interface Track {
  started: boolean;
  ending: boolean;
  /** Jobs sent and not answered (nor given back). */
  readonly outstanding: Set<number>;
}
const leases = new Map<number, Track>();
/** What reached the runtime's side before it listened (an end while the modules still load): given to it once it does. */
const early: unknown[] = [];
let deliver: (message: unknown) => void = (message) => void early.push(message);
let draining = false;
let ending: StageStatus | undefined;

function send(bytes: Buffer): void {
  // v8.serialize gives each message a buffer of its own: move it instead of copying it.
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) main.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
  else main.postMessage(bytes);
}

const port: WorkerPort = {
  post(message) {
    const bytes = serialize(message); // throws before sending anything when something cannot be cloned
    checkPayload(bytes.length, data.maxPayload); // so does a message over max_payload: the runtime sends its results one by one
    send(bytes);
    observe(message); // after: what it reports (drained) must follow the message on the wire
  },
  listen(onMessage) {
    deliver = onMessage;
  },
  exit() {
    main.close();
  },
};

/** Follows what the runtime says about its leases. */
function observe(message: unknown[]): void {
  const lease = message[1] as number;
  const track = leases.get(lease);
  switch (message[0]) {
    case STARTED:
      if (track) track.started = true;
      return;
    case START_FAILED:
    case ENDED:
      leases.delete(lease);
      if (ending && leases.size === 0) deliver([CLOSE]);
      return;
    case RESULTS:
      if (track) {
        for (let i = 2; i < message.length; i += 3) {
          const status = message[i + 1];
          if (status !== R_RUNNING && status !== R_PART) track.outstanding.delete(message[i] as number); // the others are final
        }
      }
      break;
    case RECLAIMED:
      if (track) for (const seq of message[2] as number[]) track.outstanding.delete(seq);
      break;
    case RESULTS_RANGE:
    case RESULTS_NUMBERS:
      if (track) for (let i = 0, { count } = rangePayloads(message); i < count; i++) track.outstanding.delete((message[2] as number) + i);
      break;
    default:
      return;
  }
  if (draining) checkDrained();
}

function inbound(message: unknown[]): void {
  const lease = message[1] as number;
  switch (message[0]) {
    case START: {
      const verdict = admit(message[2] as WireWork, data);
      if ('error' in verdict) {
        port.post([START_FAILED, lease, 'load', verdict.role, toWireError(verdict.error)]);
        return; // the runtime never hears of it: its later messages find no lease and are answered as such
      }
      leases.set(lease, { started: false, ending: false, outstanding: new Set() });
      deliver([START, lease, verdict.work, message[3]]);
      return;
    }
    case RUN: {
      const track = leases.get(lease);
      if (track) for (let i = 2; i < message.length; i += 3) track.outstanding.add(message[i] as number);
      break;
    }
    case RUN_RANGE:
    case RUN_NUMBERS: {
      const track = leases.get(lease);
      if (track) for (let i = 0, { count } = rangePayloads(message); i < count; i++) track.outstanding.add((message[2] as number) + i);
      break;
    }
    case END: {
      const track = leases.get(lease);
      if (track) track.ending = true;
      break;
    }
  }
  deliver(message);
}

/**
 * Drain: every job not started is given back (RECLAIM, as the pool asks for an idle worker: the
 * stage sends it elsewhere); the calls in work finish. Reports once nothing is left in work.
 */
function drain(): void {
  draining = true;
  for (const [lease, track] of leases) if (!track.ending && track.outstanding.size > 0) deliver([RECLAIM, lease, track.outstanding.size]);
  checkDrained();
}

let drained = false;
function checkDrained(): void {
  if (drained) return;
  for (const track of leases.values()) if (track.outstanding.size > 0) return;
  drained = true;
  main.postMessage({ drained: true } satisfies ThreadReport);
}

/** Ends every lease here (onEnd runs with `status`), then exits the thread. */
function endAll(status: StageStatus): void {
  ending = status;
  for (const [lease, track] of leases) {
    if (track.ending) continue;
    track.ending = true;
    deliver([END, lease, status]);
  }
  if (leases.size === 0) deliver([CLOSE]);
}

main.on('message', (message: Uint8Array | ThreadControl) => {
  if (message instanceof Uint8Array) return inbound(deserialize(message) as unknown[]);
  if ('drain' in message) drain();
  else if ('end' in message) endAll(message.end);
});

/** Imports every served module first, so that the names their expose() calls register exist. */
async function load(): Promise<void> {
  // Node keeps one instance of a module per realm: the TaskRefs that name it later get this one.
  for (const module of data.modules) await importModule(module);
}

load().then(
  () => {
    if (data.probe) {
      main.postMessage({ loaded: true } satisfies ThreadReport);
      main.close();
      return;
    }
    serve(port);
    for (const message of early.splice(0)) deliver(message);
  },
  (error: unknown) => {
    main.postMessage({ loadFailed: error instanceof Error ? `${error.name}: ${error.message}` : String(error) } satisfies ThreadReport);
    main.close();
  },
);
