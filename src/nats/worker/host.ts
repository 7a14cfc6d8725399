/**
 * What `rxjs-parallel-worker` does: takes slot claims from the stream's work queue while it has
 * free slots (`concurrency`), runs each slot in a worker thread of its own (the runtime of
 * threadScheduler, src/worker/runtime.ts, behind thread-entry.ts), and moves the slot's messages
 * between NATS and the thread. The main thread runs no element: it keeps every claim alive
 * (`working()`) and sends heartbeats however long an element takes.
 * @internal
 * @module
 */
import { hostname } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import type { Consumer, ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { StageStatus } from '../../shared/context.js';
import { toWireError } from '../../worker/protocol.js';
import { CLAIMS_CONSUMER, connectNats, ensureClaimsConsumer, ensureStream, loadNats, names } from '../client.js';
import { decodeFrame, decodeJson, encodeJson, FRAMES_VERSION, HEARTBEAT, type BindAnswer, type Claim, type ControlFrame, type SlotExit } from '../frames.js';
import { NATS_DEFAULTS, type ConnectionSettings } from '../options.js';
import type { ThreadControl, ThreadReport } from './thread-entry.js';

/** What the command was started with. */
export interface WorkerHostOptions {
  readonly connection: ConnectionSettings;
  readonly stream: string;
  readonly subject: string;
  /** Slots (threads) held at once. */
  readonly concurrency: number;
  /** `file:` URLs of the served modules. */
  readonly modules: readonly string[];
  readonly allowSource: boolean;
  /** ms `onEnd` has, when a slot ends without its producer (gone, or the worker stops), before the thread is terminated. */
  readonly endTimeout: number;
  /** The worker thread entry (dist/esm/nats/worker-thread.cjs). */
  readonly threadEntry: URL;
  /** Where progress lines go (stderr). */
  readonly log: (line: string) => void;
}

/** What `onEnd` sees when a slot ends here rather than by its stage (the producer is gone, or this worker stops). */
const ORPHAN_STATUS: StageStatus = Object.freeze({ done: false, activeWorkers: 0 });
const noop = () => {};
/** ms before a claim whose producer did not answer is offered again. */
const BIND_RETRY_MS = 250;
/** ms a bind request waits for its answer: a third of the producer's silence (at least 1 s), well within the claim's ackWait. */
const bindTimeout = (silence: number) => Math.max(1000, Math.floor(silence / 3));

/** The running command. */
export class WorkerHost {
  nc!: NatsConnection;
  js!: JetStreamClient;
  jsm!: JetStreamManager;
  /** `on <host> pid <pid>`: how producers name this worker in errors. */
  readonly description = `${hostname()} pid ${process.pid}`;
  controlPrefix = '';
  private readonly slots = new Map<number, SlotHost>();
  private nextSlot = 1;
  stopping = false;
  private fetching: ConsumerMessages | undefined;
  private freed: (() => void) | undefined;
  /** Between a `disconnect` and the `reconnect` after it: silences then are this worker's, not its producers'. */
  disconnected = false;
  /** Producers found gone (silent, or their claims answered by nobody), and the purge of what they left. */
  private readonly goneProducers = new Map<string, Promise<unknown>>();
  /** Producers that did not answer a bind: since when, and when last (performance.now()). */
  private readonly unansweredSince = new Map<string, { since: number; last: number }>();
  private loop: Promise<void> | undefined;

  constructor(readonly options: WorkerHostOptions) {}

  /** Connects, makes the stream and the claims consumer if they are missing, and starts taking claims. */
  async start(): Promise<void> {
    const o = this.options;
    const { core, js } = await loadNats();
    this.nc = await connectNats(o.connection, { maxReconnectAttempts: -1 }); // a worker waits for its server
    this.jsm = await js.jetstreamManager(this.nc);
    this.js = js.jetstream(this.nc);
    const defaults = {
      stream: o.stream,
      subject: o.subject,
      storage: NATS_DEFAULTS.storage,
      maxAge: NATS_DEFAULTS.maxAge,
      ackWait: NATS_DEFAULTS.ackWait,
      maxAckPending: NATS_DEFAULTS.maxAckPending,
    };
    await ensureStream(this.jsm, defaults);
    await ensureClaimsConsumer(this.jsm, defaults, false);
    this.controlPrefix = core.createInbox((o.connection.connectOptions?.inboxPrefix as string | undefined) ?? undefined);
    this.nc.subscribe(`${this.controlPrefix}.*`, {
      callback: (error, msg) => {
        if (!error) this.slots.get(Number(msg.subject.slice(msg.subject.lastIndexOf('.') + 1)))?.onControl(msg);
      },
    });
    void this.watch();
    const consumer = await this.js.consumers.get(o.stream, CLAIMS_CONSUMER);
    this.loop = this.takeClaims(consumer);
  }

  /** Pulls claims only while a slot is free, so that a claim waits in the queue for a worker that can take it. */
  private async takeClaims(consumer: Consumer): Promise<void> {
    while (!this.stopping) {
      const free = this.options.concurrency - this.slots.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.freed = resolve));
        continue;
      }
      try {
        this.fetching = await consumer.fetch({ max_messages: free, expires: 5000 });
        for await (const msg of this.fetching) this.take(msg);
      } catch (error) {
        if (this.stopping) break;
        this.options.log(`fetching claims failed (${describe(error)}); trying again`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        this.fetching = undefined;
      }
    }
  }

  private take(msg: JsMsg): void {
    if (this.stopping) return msg.nak(); // another worker takes it at once
    const claim = decodeJson<Claim>(msg.data);
    if (!claim || claim.v !== FRAMES_VERSION || typeof claim.reply !== 'string' || typeof claim.producer !== 'string') {
      this.options.log(`dropped a claim this version cannot read (${msg.subject})`);
      return msg.term();
    }
    if (this.goneProducers.has(claim.producer)) return msg.term();
    const slot = new SlotHost(this, this.nextSlot++, msg, claim);
    this.slots.set(slot.id, slot);
    void slot.start();
  }

  /** A slot ended: its thread is gone and its claim acknowledged. */
  released(slot: SlotHost): void {
    this.slots.delete(slot.id);
    const freed = this.freed;
    this.freed = undefined;
    freed?.();
    if (this.stopping && this.slots.size === 0) this.drained?.();
  }

  /**
   * A producer did not answer a bind. Just after a NATS restart that is only the producer not yet
   * reconnected (workers often come back first), so one silence proves nothing: the producer is
   * taken for gone once it has stayed unanswering for its `silence` (its ackWait, ms). Returns
   * whether it now is.
   */
  unanswered(producer: string, silence: number): boolean {
    const now = performance.now();
    const seen = this.unansweredSince.get(producer);
    // Failures further apart than a few tries are another outage: it starts its own count.
    if (seen === undefined || now - seen.last > 2 * bindTimeout(silence) + 4 * BIND_RETRY_MS) {
      this.unansweredSince.set(producer, { since: now, last: now });
      return false;
    }
    seen.last = now;
    return now - seen.since >= silence;
  }

  /** A producer answered a bind: whatever silence it had is over. */
  answered(producer: string): void {
    this.unansweredSince.delete(producer);
  }

  /** Nobody answers for this producer: purge what it left, once. Resolves when purged. */
  producerGone(producer: string): Promise<unknown> {
    let purge = this.goneProducers.get(producer);
    if (!purge) {
      purge = this.jsm.streams.purge(this.options.stream, { filter: names.producer(this.options.subject, producer) }).catch(noop);
      this.goneProducers.set(producer, purge);
    }
    return purge;
  }

  /** A connection lost and found again may have lost this worker's answers: its slots are given back. */
  private async watch(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        this.disconnected = true;
        this.options.log(`lost the connection to ${status.server}; reconnecting`);
      } else if (status.type === 'reconnect' && this.disconnected) {
        this.disconnected = false;
        this.unansweredSince.clear(); // silences counted while this worker was away prove nothing
        this.options.log(`reconnected to ${status.server}; giving back the slots held across the outage`);
        for (const slot of [...this.slots.values()]) slot.connectionLost();
      }
    }
  }

  private drained: (() => void) | undefined;

  /**
   * Stops taking claims; every slot finishes what it has started, gives back what it has not (its
   * producer sends it elsewhere), runs `onEnd`, and ends. Resolves once all have, and the connection is closed.
   */
  async drain(): Promise<void> {
    this.stopping = true;
    this.freed?.();
    await this.fetching?.close().catch(noop);
    const done = this.slots.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.drained = resolve));
    for (const slot of this.slots.values()) slot.drain();
    await done;
    await this.loop?.catch(noop);
    await this.nc.drain().catch(noop);
  }
}

const enum SlotState {
  Binding,
  Running,
  /** Giving back what it has not started. */
  Draining,
  /** Its producer no longer hears from it: onEnd runs, then the thread exits. */
  Ending,
  Done,
}

/** One slot this worker holds: a claim, a thread, the slot's inbox. */
class SlotHost {
  private state = SlotState.Binding;
  private thread: Worker | undefined;
  private threadError: unknown;
  private inbox: ConsumerMessages | undefined;
  private readonly control: string;
  private lastHeard = performance.now();
  private beat: ReturnType<typeof setInterval> | undefined;
  private endTimer: ReturnType<typeof setTimeout> | undefined;
  /** Thread output goes to the producer (not after the slot was given back). */
  private forwarding = true;
  private claimSettled = false;
  /** Its producer went away: the purge of what it left. */
  private orphaned: Promise<unknown> | undefined;
  /** Asking a silent producer whether it is there. */
  private probing = false;

  constructor(
    private readonly host: WorkerHost,
    readonly id: number,
    private readonly claimMsg: JsMsg,
    private readonly claim: Claim,
  ) {
    this.control = `${host.controlPrefix}.${id}`;
  }

  async start(): Promise<void> {
    const { nc } = this.host;
    let answer: BindAnswer | undefined;
    try {
      this.claimMsg.working(); // the claim stays this worker's while it asks
      const reply = await nc.request(this.claim.reply, encodeJson({ bind: { worker: this.host.description, control: this.control } }), {
        timeout: bindTimeout(this.claim.silence),
      });
      answer = decodeJson<BindAnswer>(reply.data);
    } catch {
      // No responders, or no answer in time: the producer is gone, or not back yet after an outage.
    }
    const slot = `${this.claim.producer}.${this.claim.slot}`;
    // No answer while this worker is itself away proves nothing about the producer.
    if (answer === undefined && (this.host.disconnected || !this.host.unanswered(this.claim.producer, this.claim.silence))) {
      this.host.options.log(`slot ${slot}: its producer did not answer; the claim goes back to the queue`);
      this.claimMsg.nak(BIND_RETRY_MS); // back to the queue, for this worker or another to try again
      this.claimSettled = true;
      return this.done();
    }
    if (answer !== undefined) this.host.answered(this.claim.producer);
    if (!answer?.ok) {
      if (!answer) {
        this.host.options.log(`slot ${slot}: its producer has not answered for ${this.claim.silence} ms (its ackWait); dropped, with all it left`);
        void this.host.producerGone(this.claim.producer);
      }
      this.claimMsg.term(); // the slot is not to be run by anyone
      this.claimSettled = true;
      return this.done();
    }
    this.state = SlotState.Running;
    const o = this.host.options;
    o.log(`took slot ${slot}`);
    // maxPayload: the thread sends a message of results over it as several (see checkPayload).
    const thread = new Worker(o.threadEntry, { workerData: { modules: o.modules, allowSource: o.allowSource, maxPayload: this.host.nc.info?.max_payload } });
    this.thread = thread;
    thread.on('message', (m: Uint8Array | ThreadReport) => this.fromThread(m));
    thread.on('error', (error) => (this.threadError ??= error));
    thread.on('exit', (code) => this.threadExited(code));
    this.beat = setInterval(this.onBeat, this.claim.heartbeat);
    if (this.host.stopping) this.drain(); // SIGTERM came while the bind was on its way
    try {
      const consumer = await this.host.js.consumers.get(o.stream, this.claim.consumer);
      if (this.state !== SlotState.Running) return;
      this.inbox = await consumer.consume({ max_messages: 256 });
      for await (const msg of this.inbox) {
        this.lastHeard = performance.now();
        if (this.state === SlotState.Running) {
          // The client's bytes may be a view of a buffer it shares (a Node Buffer's slice): move a copy of our own.
          const bytes = new Uint8Array(msg.data);
          thread.postMessage(bytes, [bytes.buffer]);
        }
        msg.ack();
      }
    } catch (error) {
      if (this.state === SlotState.Running) this.giveUp(`could not read the slot's inbox (${describe(error)})`);
    }
  }

  private fromThread(message: Uint8Array | ThreadReport): void {
    if (message instanceof Uint8Array) {
      if (this.forwarding) this.host.nc.publish(this.claim.reply, message);
      return;
    }
    if ('loadFailed' in message) this.threadError ??= new Error(`the served modules did not load: ${message.loadFailed}`); // it exits next
    if ('drained' in message && this.state === SlotState.Draining) {
      this.tellProducer({
        exitCode: null,
        blameless: true,
        reason: `on ${this.host.description} was stopped: it finished the elements it had started and gave back the others`,
      });
      this.endHere();
    }
  }

  /** Every third of the producer's `ackWait`: a heartbeat, the claim kept alive, the producer's silence checked. */
  private readonly onBeat = (): void => {
    if (this.forwarding) this.host.nc.publish(this.claim.reply, HEARTBEAT);
    this.claimMsg.working();
    // Without a connection the silence is this worker's own (its slots are given back on reconnect).
    if (this.host.disconnected) {
      this.lastHeard = performance.now();
      return;
    }
    if (this.state === SlotState.Running && !this.probing && performance.now() - this.lastHeard > this.claim.silence) void this.silent();
  };

  /**
   * The producer has said nothing to this slot for its `silence`. It may be gone, or alive and done
   * with this slot (it gave it up in an outage): it is asked, as a new bind would ask it, and only
   * a producer that nobody answers for is taken for gone, with all it left purged.
   */
  private async silent(): Promise<void> {
    this.probing = true;
    const slot = `${this.claim.producer}.${this.claim.slot}`;
    let answered = false;
    try {
      await this.host.nc.request(this.claim.reply, encodeJson({ bind: { worker: this.host.description, control: this.control } }), {
        timeout: bindTimeout(this.claim.silence),
      });
      answered = true;
    } catch {
      // no responders, or no answer in time
    }
    this.probing = false;
    if (this.host.disconnected) return; // no answer because this worker is away: its slots go back on reconnect
    if (this.state !== SlotState.Running || performance.now() - this.lastHeard <= this.claim.silence) return; // heard from meanwhile
    if (answered) {
      // Alive, and done with this slot (or about to find it silent): give it back without blame.
      this.host.options.log(`slot ${slot}: its producer no longer uses it; ending it`);
      this.tellProducer({ exitCode: null, blameless: true, reason: `on ${this.host.description} heard nothing from its producer for ${this.claim.silence} ms` });
    } else {
      this.host.options.log(`slot ${slot}: its producer went silent; ending it`);
      this.orphaned = this.host.producerGone(this.claim.producer);
    }
    this.forwarding = false;
    this.endHere();
  }

  onControl(msg: Msg): void {
    this.lastHeard = performance.now();
    let frame;
    try {
      frame = decodeFrame(msg.data);
    } catch {
      return;
    }
    if (frame && !Array.isArray(frame) && 'terminate' in frame) {
      this.forwarding = false;
      this.stopInbox();
      void this.thread?.terminate();
    } else if (frame && !Array.isArray(frame) && 'release' in frame && (this.state === SlotState.Running || this.state === SlotState.Draining)) {
      this.host.options.log(`slot ${this.claim.producer}.${this.claim.slot}: its producer gave it up; ending it`);
      this.forwarding = false;
      this.endHere();
    }
  }

  /** SIGTERM: finish what was started, give back the rest. */
  drain(): void {
    if (this.state === SlotState.Binding) return; // it ends by itself once the bind is answered
    if (this.state !== SlotState.Running) return;
    this.state = SlotState.Draining;
    this.stopInbox();
    this.thread!.postMessage({ drain: true } satisfies ThreadControl);
  }

  /** The connection was lost and found: answers may have been lost, so the slot is given back whole. */
  connectionLost(): void {
    if (this.state !== SlotState.Running && this.state !== SlotState.Draining) return;
    this.tellProducer({ exitCode: null, blameless: true, reason: `on ${this.host.description} lost its connection to NATS` });
    this.endHere();
  }

  /** The slot's transport failed: tell the producer (as a crash: the element in work fails or is retried) and end here. */
  private giveUp(reason: string): void {
    this.tellProducer({ exitCode: null, reason: `on ${this.host.description} ${reason}` });
    this.endHere();
  }

  private tellProducer(exit: SlotExit): void {
    if (!this.forwarding) return;
    this.host.nc.publish(this.claim.reply, encodeJson({ exit } satisfies ControlFrame));
    this.forwarding = false;
  }

  /** Ends every lease of the slot here (onEnd runs), then the thread exits; bounded by `endTimeout`. */
  private endHere(): void {
    if (this.state === SlotState.Ending || this.state === SlotState.Done) return;
    this.state = SlotState.Ending;
    this.forwarding = false;
    this.stopInbox();
    if (!this.thread) return this.done();
    this.thread.postMessage({ end: ORPHAN_STATUS } satisfies ThreadControl);
    this.endTimer = setTimeout(() => void this.thread?.terminate(), this.host.options.endTimeout);
  }

  private threadExited(code: number): void {
    if (this.state !== SlotState.Ending) {
      // The producer closed the slot (exit code 0), or the thread died under an element.
      const error = this.threadError;
      this.tellProducer({
        exitCode: code,
        reason:
          code === 0 && error === undefined
            ? undefined
            : `on ${this.host.description}: its thread exited with code ${code}${error === undefined ? '' : ` after an uncaught ${describe(error)}`}`,
        error: error === undefined ? undefined : toWireError(error),
      });
    }
    this.done();
  }

  private stopInbox(): void {
    const inbox = this.inbox;
    this.inbox = undefined;
    void inbox?.close().catch(noop);
  }

  private done(): void {
    if (this.state === SlotState.Done) return;
    this.state = SlotState.Done;
    clearInterval(this.beat);
    clearTimeout(this.endTimer);
    this.stopInbox();
    // The claim leaves the work queue (if the producer has not purged it already).
    const acked = this.claimSettled ? Promise.resolve() : this.claimMsg.ackAck().catch(noop);
    this.claimSettled = true;
    this.host.released(this);
    if (this.orphaned) {
      const slot = `${this.claim.producer}.${this.claim.slot}`;
      void Promise.all([acked, this.orphaned]).then(() => this.host.options.log(`slot ${slot}: ended without its producer; what it left in the stream is gone`));
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
