/**
 * The options of `natsScheduler`, their defaults in one frozen object, and their validation; the
 * connection options are shared with the `rxjs-parallel-worker` command.
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import { MAX_TIMER_MS } from '../shared/timers.js';

/** TLS settings handed to the NATS client as they are (its `tls` connection option). */
export interface NatsTlsOptions {
  /** Path of a PEM file of the certificate authorities to trust. */
  caFile?: string;
  /** PEM text of the certificate authorities to trust. */
  ca?: string;
  /** Path of the client certificate (PEM), for servers that verify clients. */
  certFile?: string;
  /** PEM text of the client certificate. */
  cert?: string;
  /** Path of the client certificate's private key (PEM). */
  keyFile?: string;
  /** PEM text of the client certificate's private key. */
  key?: string;
  /** TLS before the NATS handshake (a server started with `handshake_first`). */
  handshakeFirst?: boolean;
}

/**
 * How to reach and authenticate with the NATS servers: the same settings on the producer
 * (`natsScheduler`) and on the workers (`rxjs-parallel-worker` flags of the same names).
 */
export interface NatsConnectionOptions {
  /**
   * The NATS servers: `nats://host:port` (or `tls://`), one or several of one cluster.
   * @default 'nats://127.0.0.1:4222'
   */
  servers?: string | string[];
  /** User name, with `pass` (the server's `authorization { user, password }`). @default undefined */
  user?: string;
  /** Password of `user`. @default undefined */
  pass?: string;
  /** An authentication token (the server's `authorization { token }`). @default undefined */
  token?: string;
  /** An nkey seed (`SU…`), to sign the server's challenge (the server lists the user's public nkey). @default undefined */
  nkeySeed?: string;
  /** Path of a `.creds` file (a user JWT and its nkey seed, as `nsc` writes it). @default undefined */
  credentials?: string;
  /** TLS settings; a `tls://` server URL turns TLS on with the system's authorities. @default undefined */
  tls?: NatsTlsOptions;
  /** The connection's name, as the server's monitoring shows it. @default 'rxjs-parallel' */
  name?: string;
  /**
   * Anything else the NATS client's `connect()` takes (`maxReconnectAttempts`,
   * `reconnectTimeWait`, `inboxPrefix`, an `authenticator` …), passed as it is; the options
   * above win over the same keys here.
   * @default undefined
   */
  connectOptions?: Record<string, unknown>;
}

/** Options of {@link natsScheduler}. Defaults are in {@link NATS_DEFAULTS}. */
export interface NatsSchedulerOptions extends NatsConnectionOptions {
  /**
   * The JetStream stream the stage's work goes through: a work-queue stream (`retention:
   * workqueue`) capturing `subject.>`, made with the settings below when it does not exist.
   * The workers are started with the same `--stream`.
   */
  stream: string;
  /**
   * The stream's subject prefix: slot claims go to `subject.claim.…`, work to `subject.in.…`.
   * @default the stream's name
   */
  subject?: string;
  /**
   * Worker slots this scheduler claims at most at once: each is one worker thread of an
   * `rxjs-parallel-worker` process, held for this scheduler until it is idle for `idleTimeout`.
   * A stage's leases share the slots, as a thread pool's leases share its threads.
   * @default 4
   */
  workers?: number;
  /**
   * Milliseconds a worker (or this producer) may be silent before it is taken for dead: its slot
   * claims are redelivered by JetStream after it (`ack_wait` of the claims consumer), and the
   * element a silent worker was running fails with `WorkerCrashedError` (or is retried). Both
   * sides send a heartbeat every third of it, from threads that run no element, so an element may
   * take far longer than `ackWait`.
   * @default 30000
   */
  ackWait?: number;
  /**
   * The most slots all workers of the stream hold at once, for every producer together
   * (`max_ack_pending` of the claims consumer): a ceiling on the stream's concurrency.
   * @default 1000
   */
  maxAckPending?: number;
  /**
   * Where the stream keeps its messages when this scheduler makes it: `'file'` survives a server
   * restart.
   * @default 'file'
   */
  storage?: 'file' | 'memory';
  /**
   * Milliseconds a message may stay in the stream when the stream is made here (`max_age`): what
   * a producer that died left behind expires after it. 0 keeps messages until consumed.
   * @default 3600000
   */
  maxAge?: number;
  /**
   * Elements a slot may hold queued behind the batch in work, rounded up to whole batches, so that a
   * remote worker need not wait a round trip between two: more than on threads (4), as a round trip
   * through the stream is longer; an idle worker of the stage takes back queued work all the same.
   * The default queues 3 batches of 100 (at 128 it was 2, and the worker waited on round trips:
   * `node bench/nats-depth.mjs`, docs/distributed.md, sizing); more buys rate on fast small batches
   * at the cost of elements held in flight. Not used by a stage with a `timeout`.
   * @default 256
   */
  prefetch?: number;
  /**
   * Milliseconds a worker has to stop a cancelled call or to acknowledge the end of a lease before
   * its slot is terminated and replaced.
   * @default 5000
   */
  cancelGrace?: number;
  /**
   * Milliseconds a slot claim may wait for a worker to take it and start before it counts as
   * failed (it is tried three times).
   * @default 60000
   */
  startTimeout?: number;
  /**
   * Milliseconds `onStart` and `onEnd` may take in a worker before the slot is terminated (the
   * stage fails with `StageError` for onStart).
   * @default 10000
   */
  endTimeout?: number;
  /**
   * Milliseconds a slot with no lease is kept warm before it is given back to the workers, for
   * other producers to use.
   * @default 30000
   */
  idleTimeout?: number;
}

/** The documented defaults of {@link NatsSchedulerOptions}, in one place. */
export const NATS_DEFAULTS = Object.freeze({
  servers: 'nats://127.0.0.1:4222',
  workers: 4,
  ackWait: 30_000,
  maxAckPending: 1000,
  storage: 'file' as 'file' | 'memory',
  maxAge: 3_600_000,
  prefetch: 256,
  cancelGrace: 5000,
  startTimeout: 60_000,
  endTimeout: 10_000,
  idleTimeout: 30_000,
  name: 'rxjs-parallel',
});

/** Validated scheduler options with the defaults applied. @internal */
export interface NatsSettings {
  readonly connection: ConnectionSettings;
  readonly stream: string;
  readonly subject: string;
  readonly workers: number;
  readonly ackWait: number;
  readonly maxAckPending: number;
  readonly storage: 'file' | 'memory';
  readonly maxAge: number;
  readonly prefetch: number;
  readonly cancelGrace: number;
  readonly startTimeout: number;
  readonly endTimeout: number;
  readonly idleTimeout: number;
}

/** Validated connection options. @internal */
export interface ConnectionSettings {
  readonly servers: string[];
  readonly user: string | undefined;
  readonly pass: string | undefined;
  readonly token: string | undefined;
  readonly nkeySeed: string | undefined;
  readonly credentials: string | undefined;
  readonly tls: NatsTlsOptions | undefined;
  readonly name: string;
  readonly connectOptions: Record<string, unknown> | undefined;
}

const CONNECTION_KEYS = ['servers', 'user', 'pass', 'token', 'nkeySeed', 'credentials', 'tls', 'name', 'connectOptions'] as const;
const KNOWN = [
  ...CONNECTION_KEYS,
  'stream', 'subject', 'workers', 'ackWait', 'maxAckPending', 'storage', 'maxAge', 'prefetch', 'cancelGrace', 'startTimeout', 'endTimeout', 'idleTimeout',
] as const;
const TLS_KEYS = ['caFile', 'ca', 'certFile', 'cert', 'keyFile', 'key', 'handshakeFirst'];

/** Checks `natsScheduler`'s options and applies the defaults; throws InvalidOptionError naming the option. @internal */
export function resolveNatsOptions(options: unknown): NatsSettings {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'an object with at least `stream`', options);
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      throw new InvalidOptionError(key, `one of the natsScheduler options ${KNOWN.join(', ')} (unknown option)`, o[key]);
    }
  }
  const stream = o.stream;
  if (typeof stream !== 'string' || !isStreamName(stream)) {
    throw new InvalidOptionError('stream', 'a JetStream stream name (letters, digits, - and _; no spaces, dots or wildcards)', stream);
  }
  const subject = o.subject ?? stream;
  if (typeof subject !== 'string' || !isSubjectPrefix(subject)) {
    throw new InvalidOptionError('subject', 'a NATS subject without wildcards (tokens separated by dots)', subject);
  }
  const storage = o.storage ?? NATS_DEFAULTS.storage;
  if (storage !== 'file' && storage !== 'memory') throw new InvalidOptionError('storage', "'file' or 'memory'", storage);
  return {
    connection: resolveConnection(o),
    stream,
    subject,
    workers: integer(o, 'workers', NATS_DEFAULTS.workers, 1),
    ackWait: ms(o, 'ackWait', NATS_DEFAULTS.ackWait, 1),
    maxAckPending: integer(o, 'maxAckPending', NATS_DEFAULTS.maxAckPending, 1),
    storage,
    maxAge: ms(o, 'maxAge', NATS_DEFAULTS.maxAge, 0),
    prefetch: integer(o, 'prefetch', NATS_DEFAULTS.prefetch, 0),
    cancelGrace: ms(o, 'cancelGrace', NATS_DEFAULTS.cancelGrace, 0),
    startTimeout: ms(o, 'startTimeout', NATS_DEFAULTS.startTimeout, 0),
    endTimeout: ms(o, 'endTimeout', NATS_DEFAULTS.endTimeout, 0),
    idleTimeout: ms(o, 'idleTimeout', NATS_DEFAULTS.idleTimeout, 0),
  };
}

/** Checks the connection options (shared with the worker command). @internal */
export function resolveConnection(o: Record<string, unknown>): ConnectionSettings {
  const servers = o.servers ?? NATS_DEFAULTS.servers;
  const list = typeof servers === 'string' ? servers.split(',').map((s) => s.trim()) : servers;
  if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string' || !/^(nats|tls|ws|wss):\/\/[^\s]+$|^[^\s:/]+(:\d+)?$/.test(s))) {
    throw new InvalidOptionError('servers', 'a server URL such as `nats://host:4222`, or an array of them', servers);
  }
  for (const key of ['user', 'pass', 'token', 'nkeySeed', 'credentials', 'name'] as const) {
    const v = o[key];
    if (v !== undefined && (typeof v !== 'string' || v === '')) throw new InvalidOptionError(key, 'a non-empty string', v);
  }
  if (o.pass !== undefined && o.user === undefined) throw new InvalidOptionError('user', 'set when `pass` is (user and password go together)', o.user);
  const tls = o.tls;
  if (tls !== undefined) {
    if (typeof tls !== 'object' || tls === null) throw new InvalidOptionError('tls', 'an object of TLS settings (caFile, certFile, keyFile …)', tls);
    for (const [key, v] of Object.entries(tls)) {
      if (!TLS_KEYS.includes(key)) throw new InvalidOptionError(`tls.${key}`, `one of ${TLS_KEYS.join(', ')}`, v);
      if (key === 'handshakeFirst' ? typeof v !== 'boolean' : typeof v !== 'string') {
        throw new InvalidOptionError(`tls.${key}`, key === 'handshakeFirst' ? 'a boolean' : 'a string', v);
      }
    }
  }
  const connectOptions = o.connectOptions;
  if (connectOptions !== undefined && (typeof connectOptions !== 'object' || connectOptions === null)) {
    throw new InvalidOptionError('connectOptions', 'an object of NATS connect() options', connectOptions);
  }
  return {
    servers: list as string[],
    user: o.user as string | undefined,
    pass: o.pass as string | undefined,
    token: o.token as string | undefined,
    nkeySeed: o.nkeySeed as string | undefined,
    credentials: o.credentials as string | undefined,
    tls: tls as NatsTlsOptions | undefined,
    name: (o.name as string | undefined) ?? NATS_DEFAULTS.name,
    connectOptions: connectOptions as Record<string, unknown> | undefined,
  };
}

/** A stream name JetStream accepts (it is also a subject token of the API). @internal */
export function isStreamName(name: string): boolean {
  return /^[A-Za-z0-9_-]{1,255}$/.test(name);
}

/** A subject without wildcards or empty tokens. @internal */
export function isSubjectPrefix(subject: string): boolean {
  return subject.split('.').every((token) => /^[^\s*>.]+$/.test(token));
}

function integer(o: Record<string, unknown>, key: string, fallback: number, min: number): number {
  const v = o[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new InvalidOptionError(key, `an integer ≥ ${min}`, v);
  return v;
}

/** Milliseconds that a timer can hold (up to 2^31 − 1). */
function ms(o: Record<string, unknown>, key: string, fallback: number, min: number): number {
  const v = o[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > MAX_TIMER_MS) {
    throw new InvalidOptionError(key, `a number of milliseconds from ${min} to ${MAX_TIMER_MS} (natsScheduler)`, v);
  }
  return v;
}
