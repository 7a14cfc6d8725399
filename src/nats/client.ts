/**
 * What the producer and the worker share about NATS: loading the client (an optional peer
 * dependency, imported here only), connecting with the credentials and TLS settings, the names of
 * subjects and consumers, and making the work-queue stream and the claims consumer.
 * @internal
 * @module
 */
import { readFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import type { JetStreamManager } from '@nats-io/jetstream';
import { InvalidOptionError } from '../errors.js';
import { importModule } from '../internal/import-module.js';
import type { ConnectionSettings } from './options.js';

export type NatsCore = typeof import('@nats-io/transport-node');
export type NatsJetStream = typeof import('@nats-io/jetstream');

let loading: Promise<{ core: NatsCore; js: NatsJetStream }> | undefined;

/** The NATS client modules, imported on first use (they are optional peer dependencies). */
export function loadNats(): Promise<{ core: NatsCore; js: NatsJetStream }> {
  loading ??= Promise.all([importModule('@nats-io/transport-node'), importModule('@nats-io/jetstream')]).then(
    ([core, js]) => ({ core: core as NatsCore, js: js as NatsJetStream }),
    (error) => {
      loading = undefined;
      throw Object.assign(
        new InvalidOptionError(
          'scheduler',
          'natsScheduler with its peer dependencies installed (npm install @nats-io/transport-node @nats-io/jetstream)',
          'nats',
        ),
        { cause: error },
      );
    },
  );
  return loading;
}

/** Connects with the settings' servers, credentials and TLS; `extra` (reconnect policy …) goes under the user's `connectOptions`. */
export async function connectNats(settings: ConnectionSettings, extra: Record<string, unknown> = {}): Promise<NatsConnection> {
  const { core } = await loadNats();
  const options: Record<string, unknown> = { ...extra, ...settings.connectOptions, servers: settings.servers, name: settings.name };
  if (settings.user !== undefined) {
    options.user = settings.user;
    options.pass = settings.pass;
  }
  if (settings.token !== undefined) options.token = settings.token;
  const authenticators = [];
  if (settings.nkeySeed !== undefined) authenticators.push(core.nkeyAuthenticator(new TextEncoder().encode(settings.nkeySeed.trim())));
  if (settings.credentials !== undefined) authenticators.push(core.credsAuthenticator(readFileSync(settings.credentials)));
  if (authenticators.length > 0) options.authenticator = authenticators.length === 1 ? authenticators[0] : authenticators;
  if (settings.tls !== undefined) options.tls = settings.tls;
  return core.connect(options);
}

/** The durable consumer every worker of a stream pulls slot claims from (competing consumers). */
export const CLAIMS_CONSUMER = 'rxjs-parallel-claims';

/** Subjects and names of one stream's traffic. */
export const names = {
  /** Where a producer publishes the claim of its slot `slot`. */
  claim: (subject: string, producer: string, slot: number) => `${subject}.claim.${producer}.${slot}`,
  /** What the claims consumer takes. */
  claims: (subject: string) => `${subject}.claim.>`,
  /** The slot's inbox: the protocol messages from the producer to the worker holding the slot. */
  inbox: (subject: string, producer: string, slot: number) => `${subject}.in.${producer}.${slot}`,
  /** The durable consumer of a slot's inbox. */
  inboxConsumer: (producer: string, slot: number) => `rxp-${producer}-${slot}`,
  /** Everything one producer published, claims and inboxes: what is purged when it goes. */
  producer: (subject: string, producer: string) => `${subject}.*.${producer}.>`,
  /** Everything one slot of a producer published. */
  slot: (subject: string, producer: string, slot: number) => `${subject}.*.${producer}.${slot}`,
};

/** What the stream and the claims consumer are made with when they do not exist yet. */
export interface StreamSettings {
  readonly stream: string;
  readonly subject: string;
  readonly storage: 'file' | 'memory';
  /** ms; 0: no limit. */
  readonly maxAge: number;
  /** ms. */
  readonly ackWait: number;
  readonly maxAckPending: number;
}

const nanos = (ms: number) => Math.round(ms * 1_000_000);

/**
 * Makes the work-queue stream (if missing) and checks that an existing one captures the subject
 * as a work queue; throws InvalidOptionError naming `stream` otherwise.
 */
export async function ensureStream(jsm: JetStreamManager, s: StreamSettings): Promise<void> {
  const { js } = await loadNats();
  const wanted = `${s.subject}.>`;
  let info;
  try {
    info = await jsm.streams.info(s.stream);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    try {
      await jsm.streams.add({
        name: s.stream,
        subjects: [wanted],
        retention: js.RetentionPolicy.Workqueue,
        storage: s.storage === 'memory' ? js.StorageType.Memory : js.StorageType.File,
        max_age: nanos(s.maxAge),
        discard: js.DiscardPolicy.Old,
      });
      return;
    } catch (addError) {
      // Another producer or worker made it meanwhile: check what it made.
      info = await jsm.streams.info(s.stream).catch(() => {
        throw addError;
      });
    }
  }
  const config = info.config;
  if (config.retention !== js.RetentionPolicy.Workqueue || !(config.subjects ?? []).includes(wanted)) {
    throw new InvalidOptionError(
      'stream',
      `a work-queue stream (retention: workqueue) whose subjects include "${wanted}"`,
      `${s.stream} (retention: ${config.retention}, subjects: ${(config.subjects ?? []).join(' ')})`,
    );
  }
}

/**
 * Makes the durable claims consumer (if missing) with `ackWait` and `maxAckPending`, or brings an
 * existing one to them when `update` (a producer's settings win over a worker's defaults).
 */
export async function ensureClaimsConsumer(jsm: JetStreamManager, s: StreamSettings, update: boolean): Promise<{ ackWait: number }> {
  const { js } = await loadNats();
  const config = {
    durable_name: CLAIMS_CONSUMER,
    filter_subject: names.claims(s.subject),
    ack_policy: js.AckPolicy.Explicit,
    deliver_policy: js.DeliverPolicy.All,
    ack_wait: nanos(s.ackWait),
    max_ack_pending: s.maxAckPending,
  };
  let info;
  try {
    info = await jsm.consumers.info(s.stream, CLAIMS_CONSUMER);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    try {
      info = await jsm.consumers.add(s.stream, config);
    } catch (addError) {
      info = await jsm.consumers.info(s.stream, CLAIMS_CONSUMER).catch(() => {
        throw addError;
      });
    }
  }
  if (update && (info.config.ack_wait !== config.ack_wait || info.config.max_ack_pending !== config.max_ack_pending)) {
    info = await jsm.consumers.update(s.stream, CLAIMS_CONSUMER, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending });
  }
  return { ackWait: (info.config.ack_wait ?? config.ack_wait) / 1_000_000 };
}

/** A JetStream "not found" answer (stream or consumer): JetStreamApiError codes 10059 and 10014. */
export function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 10059 || code === 10014;
}

/**
 * Retries a JetStream call that may fail while the server is starting or JetStream is catching up
 * (after a restart), until `deadline` (performance.now() ms).
 */
export async function retrying<T>(deadline: number, call: () => Promise<T>, isFinal: (error: unknown) => boolean = () => false): Promise<T> {
  for (let delay = 25; ; delay = Math.min(delay * 2, 1000)) {
    try {
      return await call();
    } catch (error) {
      if (isFinal(error) || performance.now() + delay > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
