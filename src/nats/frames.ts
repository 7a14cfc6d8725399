/**
 * What travels between a producer's slot and the worker holding it, on top of the thread/process
 * wire protocol (src/worker/protocol.ts), which travels unchanged:
 *
 * - a protocol message (an array such as `[RUN, lease, …]`): `v8.serialize`d, the structured
 *   clone that `processScheduler` uses too (Map, Set, Date, BigInt, typed arrays, cycles survive;
 *   `undefined` and `NaN` stay what they are); its first byte is 0xFF;
 * - a control frame: JSON, first byte `{`;
 * - a heartbeat: an empty message.
 *
 * Producer → worker protocol messages go through the slot's JetStream inbox, in order; everything
 * else is core NATS. Claims are JSON.
 * @internal
 * @module
 */
import { deserialize, serialize } from 'node:v8';
import type { WireError } from '../worker/protocol.js';

/** The version of what follows; a worker refuses a claim of another version. */
export const FRAMES_VERSION = 1;

/** A slot claim: what a producer publishes to the work queue for a worker to take. */
export interface Claim {
  readonly v: number;
  /** The producer's id (a NUID): a subject token. */
  readonly producer: string;
  /** The slot's number within the producer. */
  readonly slot: number;
  /** Where the worker sends its frames (core NATS), and the bind request first. */
  readonly reply: string;
  /** The slot's inbox subject and its durable consumer. */
  readonly inbox: string;
  readonly consumer: string;
  /** ms between heartbeats, each way. */
  readonly heartbeat: number;
  /** ms of silence after which either side takes the other for dead. */
  readonly silence: number;
}

/** Worker → producer, as a request on `reply`: "I hold your slot; reach me on `control`". */
export interface BindRequest {
  readonly bind: { readonly worker: string; readonly control: string };
}

/** Producer → worker, the answer to a bind. */
export type BindAnswer = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** How a slot ended, as the worker tells its producer. */
export interface SlotExit {
  readonly exitCode: number | null;
  readonly reason?: string;
  /** Nothing it held is at fault: the producer sends it all again elsewhere (a drain, a lost connection). */
  readonly blameless?: boolean;
  readonly error?: WireError;
}

/** Control frames, each way. */
/**
 * Worker → producer: `exit`, the slot ended there. Producer → worker: `terminate`, stop the slot's
 * thread now; `release`, the producer gave the slot up (an outage, a failed publish): end it there,
 * `onEnd` running, and send nothing more.
 */
export type ControlFrame = { readonly exit: SlotExit } | { readonly terminate: string } | { readonly release: string };

const BRACE = 0x7b;

export const encodeMessage = (message: unknown[]): Uint8Array => serialize(message);

/**
 * Checks a protocol message's size against the NATS server's `max_payload` (the client refuses a
 * larger one): throws a RangeError before anything is sent, as for a value that cannot be cloned,
 * so that the sender sends the message's jobs or results one by one (the pool, the worker runtime)
 * and only one too large by itself fails (this is its UncloneableValueError's cause). `room`: bytes
 * the client adds to the payload (a publish to the stream carries headers).
 */
export function checkPayload(bytes: number, max: number | undefined, room = 0): void {
  if (max !== undefined && bytes + room > max) throw new RangeError(`a message of ${bytes} bytes is over the NATS server's max_payload (${max} bytes)`);
}
export const encodeJson = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));
export const HEARTBEAT = new Uint8Array(0);

/** A frame's content: undefined for a heartbeat, an array for a protocol message, an object for control. */
export function decodeFrame(data: Uint8Array): unknown[] | ControlFrame | undefined {
  if (data.length === 0) return undefined;
  if (data[0] === BRACE) return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as ControlFrame;
  return deserialize(data) as unknown[];
}

/** Parses JSON payloads (claims, binds), or undefined when they are not JSON objects. */
export function decodeJson<T>(data: Uint8Array): T | undefined {
  try {
    const value = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}
