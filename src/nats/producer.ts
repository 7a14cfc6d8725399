/**
 * The producer's side of `natsScheduler`: one NATS connection per scheduler, and one
 * {@link Endpoint} per worker slot, which the thread/process pool (src/schedulers/pool.ts) drives
 * exactly as it drives a worker thread. A slot is claimed through the work-queue stream (a claim
 * message that one `rxjs-parallel-worker` takes and holds, ack pending, kept alive by `working()`),
 * its protocol messages go through its own subject of the stream, in order, and the worker's
 * answers come back on a core NATS subject of this producer.
 * @internal
 * @module
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Endpoint, EndpointEvents, ExitInfo, Spawn } from '../schedulers/endpoints.js';
import { InvalidOptionError } from '../errors.js';
import { CLOSE, fromWireError, type WireError } from '../worker/protocol.js';
import { connectNats, ensureClaimsConsumer, ensureStream, loadNats, names, retrying, type NatsCore } from './client.js';
import {
  checkPayload,
  decodeFrame,
  decodeJson,
  encodeJson,
  encodeMessage,
  FRAMES_VERSION,
  HEARTBEAT,
  type BindAnswer,
  type BindRequest,
  type Claim,
  type ControlFrame,
} from './frames.js';
import type { NatsSettings } from './options.js';

interface Connected {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly core: NatsCore;
  /** This producer's id: a subject token in every subject of its slots. */
  readonly id: string;
  /** `<inbox>.<slot>` is where slot `slot`'s worker answers. */
  readonly replyPrefix: string;
  readonly subscription: Subscription;
}

const noop = () => {};
/** Bytes kept free in a publish to the stream, for headers the JetStream client may add to it. */
const HEADERS_ROOM = 64;
const nanos = (ms: number) => Math.round(ms * 1_000_000);

function unrefTimer<T extends ReturnType<typeof setTimeout>>(timer: T): T {
  timer.unref?.(); // a timer of ours never keeps the process alive by itself
  return timer;
}

/** One scheduler's connection and slots. @internal */
export class NatsProducer {
  private connecting: Promise<Connected> | undefined;
  readonly slots = new Map<number, SlotEndpoint>();
  private nextSlot = 1;
  /** Between a `disconnect` and the `reconnect` after it: silences then are the connection's, not the workers'. */
  disconnected = false;

  constructor(readonly settings: NatsSettings) {}

  /** The pool's way to start a worker: claim a slot. */
  readonly spawn: Spawn = async (events) => {
    const connected = await this.connect();
    const slot = new SlotEndpoint(this, connected, this.nextSlot++, events);
    this.slots.set(slot.id, slot);
    try {
      await slot.open();
    } catch (error) {
      slot.discard();
      throw error;
    }
    return slot;
  };

  private connect(): Promise<Connected> {
    this.connecting ??= this.open().catch((error) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  private async open(): Promise<Connected> {
    const s = this.settings;
    const { core } = await loadNats();
    const nc = await connectNats(s.connection);
    try {
      const { jetstream, jetstreamManager } = (await loadNats()).js;
      const jsm = await jetstreamManager(nc);
      const deadline = performance.now() + s.startTimeout;
      const stream = { stream: s.stream, subject: s.subject, storage: s.storage, maxAge: s.maxAge, ackWait: s.ackWait, maxAckPending: s.maxAckPending };
      await retrying(deadline, () => ensureStream(jsm, stream), isConfigError);
      await retrying(deadline, () => ensureClaimsConsumer(jsm, stream, true), isConfigError);
      const id = core.nuid.next();
      const replyPrefix = core.createInbox((s.connection.connectOptions?.inboxPrefix as string | undefined) ?? undefined);
      const subscription = nc.subscribe(`${replyPrefix}.*`, { callback: (error, msg) => void (error || this.route(msg)) });
      const connected: Connected = { nc, js: jetstream(nc), jsm, core, id, replyPrefix, subscription };
      void this.watch(connected);
      return connected;
    } catch (error) {
      await nc.close().catch(noop);
      throw error;
    }
  }

  /** A frame or a bind request for one of this producer's slots. */
  private route(msg: Msg): void {
    const slot = this.slots.get(Number(msg.subject.slice(msg.subject.lastIndexOf('.') + 1)));
    if (slot) return slot.receive(msg);
    // A slot that ended: its claim may still reach a worker (redelivered before it was purged).
    if (msg.reply) msg.respond(encodeJson({ ok: false, reason: 'this slot has ended' } satisfies BindAnswer));
  }

  /** A connection lost and found again may have lost answers: every slot is given up (blameless) and its work sent again. */
  private async watch(connected: Connected): Promise<void> {
    const closed = connected.nc.closed();
    void closed.then(() => {
      if (this.connecting === undefined) return;
      void this.connecting.then((c) => c === connected && (this.connecting = undefined), noop);
      for (const slot of [...this.slots.values()]) {
        if (slot.connected === connected) slot.lost({ exitCode: null, signal: null, reason: 'lost its producer\'s connection to NATS (closed)' });
      }
    });
    for await (const status of connected.nc.status()) {
      if (status.type === 'disconnect') this.disconnected = true;
      else if (status.type === 'reconnect' && this.disconnected) {
        this.disconnected = false;
        for (const slot of [...this.slots.values()]) {
          if (slot.connected === connected) {
            slot.lost({ exitCode: null, signal: null, blameless: true, reason: 'was given up: the producer\'s connection to NATS was lost and found again' });
          }
        }
      }
    }
  }

  /** Purges what this producer left in the stream and closes the connection. The pool has closed every slot first. */
  async close(): Promise<void> {
    const connecting = this.connecting;
    this.connecting = undefined;
    if (!connecting) return;
    const connected = await connecting.catch(() => undefined);
    if (!connected) return;
    for (const slot of [...this.slots.values()]) slot.lost({ exitCode: 0, signal: null });
    await connected.jsm.streams.purge(this.settings.stream, { filter: names.producer(this.settings.subject, connected.id) }).catch(noop);
    await connected.nc.close().catch(noop);
  }
}

const enum State {
  /** The claim is in the work queue; no worker took it yet. */
  Claimed,
  /** A worker holds it. */
  Bound,
  /** It ended; `exit` was reported. */
  Ended,
}

/** One worker slot: a worker thread of some `rxjs-parallel-worker`, seen from the pool. */
class SlotEndpoint implements Endpoint {
  private state = State.Claimed;
  private readonly reply: string;
  private readonly inbox: string;
  private readonly consumer: string;
  private control: string | undefined;
  /** `on <host> pid <pid>`, for errors. */
  private where = 'on a NATS worker';
  private lastHeard = 0;
  private beat: ReturnType<typeof setInterval> | undefined;
  private idle: ReturnType<typeof setTimeout> | undefined;
  private readonly heartbeat: number;
  /** v8.serialize carries a Float64Array as its bytes: a batch of numbers goes as one (RUN_NUMBERS). */
  readonly packsNumbers = true;

  constructor(
    private readonly producer: NatsProducer,
    readonly connected: Connected,
    readonly id: number,
    private readonly events: EndpointEvents,
  ) {
    const s = producer.settings;
    this.reply = `${connected.replyPrefix}.${id}`;
    this.inbox = names.inbox(s.subject, connected.id, id);
    this.consumer = names.inboxConsumer(connected.id, id);
    this.heartbeat = Math.max(1, Math.floor(s.ackWait / 3));
  }

  /** Makes the slot's inbox consumer, then publishes the claim. */
  async open(): Promise<void> {
    const s = this.producer.settings;
    const { js } = await loadNats();
    const deadline = performance.now() + s.startTimeout;
    await retrying(deadline, () =>
      this.connected.jsm.consumers.add(s.stream, {
        durable_name: this.consumer,
        filter_subject: this.inbox,
        ack_policy: js.AckPolicy.Explicit,
        deliver_policy: js.DeliverPolicy.All,
        ack_wait: nanos(s.ackWait),
        // What a producer that died leaves is removed by the server, in time.
        inactive_threshold: nanos(Math.max(3 * s.ackWait, 60_000)),
        max_ack_pending: 10_000,
      }),
    );
    const claim: Claim = {
      v: FRAMES_VERSION,
      producer: this.connected.id,
      slot: this.id,
      reply: this.reply,
      inbox: this.inbox,
      consumer: this.consumer,
      heartbeat: this.heartbeat,
      silence: s.ackWait,
    };
    await retrying(deadline, () => this.connected.js.publish(names.claim(s.subject, this.connected.id, this.id), encodeJson(claim)));
  }

  receive(msg: Msg): void {
    if (this.state === State.Ended) return;
    if (msg.reply) return this.bind(msg);
    this.lastHeard = performance.now();
    let frame: unknown[] | ControlFrame | undefined;
    try {
      frame = decodeFrame(msg.data);
    } catch {
      return; // not ours to read: ignore it, as a thread ignores a message it does not know
    }
    if (frame === undefined) return; // a heartbeat
    if (Array.isArray(frame)) return this.events.message(frame);
    if ('exit' in frame) {
      const exit = frame.exit;
      this.end({
        exitCode: exit.exitCode,
        signal: null,
        blameless: exit.blameless,
        reason: exit.reason,
        error: exit.error === undefined ? undefined : fromWireError(exit.error as WireError),
      });
    }
  }

  /** A worker took the claim: the first one holds the slot, any later one (a redelivery) is turned away. */
  private bind(msg: Msg): void {
    const request = decodeJson<BindRequest>(msg.data);
    if (this.state !== State.Claimed || !request?.bind || typeof request.bind.control !== 'string') {
      msg.respond(encodeJson({ ok: false, reason: 'this slot is held by another worker' } satisfies BindAnswer));
      return;
    }
    this.state = State.Bound;
    this.control = request.bind.control;
    this.where = `on ${String(request.bind.worker)}`;
    this.lastHeard = performance.now();
    msg.respond(encodeJson({ ok: true } satisfies BindAnswer));
    this.beat = unrefTimer(setInterval(this.onBeat, this.heartbeat));
  }

  /** Sends a heartbeat and checks the worker's. */
  private readonly onBeat = (): void => {
    // Without a connection the silence is the producer's own: every slot is given up, blameless, on reconnect.
    if (this.producer.disconnected) {
      this.lastHeard = performance.now();
      return;
    }
    const silent = performance.now() - this.lastHeard;
    const s = this.producer.settings;
    if (silent > s.ackWait) {
      this.lost({ exitCode: null, signal: null, reason: `${this.where} went silent for ${Math.round(silent)} ms (ackWait is ${s.ackWait} ms)` });
      return;
    }
    this.connected.nc.publish(this.control!, HEARTBEAT);
  };

  post(message: unknown[]): void {
    const data = encodeMessage(message); // throws, having sent nothing, when something cannot be cloned
    // Over max_payload the publish would reject, and the slot given up would get the same message
    // again: it throws here instead, having sent nothing (the pool then sends the jobs one by one).
    checkPayload(data.length, this.connected.nc.info?.max_payload, HEADERS_ROOM);
    if (this.state !== State.Bound) return;
    this.connected.js.publish(this.inbox, data).catch((error: unknown) => {
      // A transport failure (the server went away meanwhile): nothing the worker ran is at fault.
      this.lost({ exitCode: null, signal: null, error, blameless: true, reason: `${this.where} could not be reached: publishing to the stream failed` });
    });
  }

  ref(): void {
    clearTimeout(this.idle);
    this.idle = undefined;
  }

  /** No lease uses the slot: give it back to the workers after `idleTimeout`. */
  unref(): void {
    if (this.idle !== undefined || this.state === State.Ended) return;
    this.idle = unrefTimer(setTimeout(() => this.close(), this.producer.settings.idleTimeout));
  }

  close(): void {
    if (this.state === State.Claimed) return this.lost({ exitCode: 0, signal: null });
    if (this.state === State.Bound) this.post([CLOSE]); // the worker's thread exits; its exit frame ends the slot
  }

  terminate(): void {
    this.tell({ terminate: 'the producer terminated the slot' });
    this.end({ exitCode: null, signal: null });
  }

  /** The slot is over on this side, however it went: a worker still holding it is told to let it go. */
  lost(info: ExitInfo): void {
    this.tell({ release: 'the producer gave the slot up' });
    this.end(info);
  }

  /** A control frame to the worker holding the slot, if one does and the connection is open. */
  private tell(frame: ControlFrame): void {
    if (this.state !== State.Bound) return;
    try {
      this.connected.nc.publish(this.control!, encodeJson(frame));
    } catch {
      // the connection is closed: the worker finds the slot silent, asks, and ends it
    }
  }

  private end(info: ExitInfo): void {
    if (this.state === State.Ended) return;
    this.state = State.Ended;
    this.discard();
    // Never inside the pool's own call (terminate, close), as a thread's exit event never is.
    queueMicrotask(() => this.events.exit(info));
  }

  /** Stops the timers and removes what the slot left in the stream. */
  discard(): void {
    this.state = State.Ended;
    clearInterval(this.beat);
    clearTimeout(this.idle);
    this.producer.slots.delete(this.id);
    const { jsm } = this.connected;
    const s = this.producer.settings;
    void jsm.consumers.delete(s.stream, this.consumer).catch(noop);
    void jsm.streams.purge(s.stream, { filter: names.slot(s.subject, this.connected.id, this.id) }).catch(noop);
  }
}

/** An error that retrying cannot fix: a stream of the wrong kind. */
const isConfigError = (error: unknown): boolean => error instanceof InvalidOptionError;
