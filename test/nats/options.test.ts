// natsScheduler's options: validated when it is called (InvalidOptionError naming the option, what
// was expected and what was received), defaults in one frozen object, nothing connected before a
// stage subscribes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, isScheduler } from 'rxjs-parallel';
import { NATS_DEFAULTS, natsScheduler } from 'rxjs-parallel/nats';

function optionOf(make: () => unknown): string | undefined {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return (error as InvalidOptionError).option;
  }
  return undefined;
}

describe('natsScheduler options', () => {
  it('makes a scheduler without connecting: kind nats, batching, its size is `workers`', async () => {
    // No server listens on port 1: nothing may try to reach it before a stage subscribes.
    const nats = natsScheduler({ servers: 'nats://127.0.0.1:1', stream: 'jobs' });
    expect(isScheduler(nats)).toBe(true);
    expect(nats.kind).toBe('nats');
    expect(nats.batching).toBe(true);
    expect(nats.size).toBe(NATS_DEFAULTS.workers);
    expect(nats.prefetch).toBe(NATS_DEFAULTS.prefetch);
    expect(natsScheduler({ stream: 'jobs', workers: 7 }).size).toBe(7);
    await nats.close();
  });

  it('has its defaults in one frozen object', () => {
    expect(Object.isFrozen(NATS_DEFAULTS)).toBe(true);
    expect(NATS_DEFAULTS).toMatchObject({ servers: 'nats://127.0.0.1:4222', workers: 4, ackWait: 30_000, maxAckPending: 1000, storage: 'file', prefetch: 256, idleTimeout: 30_000 });
  });

  it('has the defaults docs/distributed.md lists in its options table', () => {
    const doc = readFileSync(new URL('../../docs/distributed.md', import.meta.url), 'utf8');
    const start = doc.indexOf('| option | default | meaning |');
    expect(start).toBeGreaterThan(-1);
    const table = doc.slice(start, doc.indexOf('\n\n', start));
    const listed = new Map([...table.matchAll(/^\| `(\w+)` \| ([^|]+?) \|/gm)].map((m) => [m[1], m[2]]));
    const checked = Object.entries(NATS_DEFAULTS).filter(([name]) => listed.has(name));
    expect(checked.map(([name]) => name)).toEqual(expect.arrayContaining(['workers', 'ackWait', 'maxAckPending', 'prefetch', 'cancelGrace', 'startTimeout', 'endTimeout', 'idleTimeout']));
    for (const [name, value] of checked) {
      const text = listed.get(name)!.replace(/^`'?|'?`$/g, '');
      expect({ name, value: text }).toEqual({ name, value: String(value) });
    }
  });

  it('has the default prefetch wherever docs/distributed.md and docs/backpressure.md name it', () => {
    const read = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8').replace(/\s+/g, ' ');
    const distributed = read('distributed.md');
    const named = [
      ...[...distributed.matchAll(/default `prefetch` \((\d+) elements/g)].map((m) => m[1]),
      ...[...distributed.matchAll(/The default \((\d+) elements\)/g)].map((m) => m[1]),
      ...[...distributed.matchAll(/\| (\d+) \(default\) \|/g)].map((m) => m[1]),
      ...[...read('backpressure.md').matchAll(/(\d+) on NATS/g)].map((m) => m[1]),
    ];
    expect(named.length).toBeGreaterThanOrEqual(4);
    expect(named).toEqual(named.map(() => String(NATS_DEFAULTS.prefetch)));
    // A slot at the default, `batchSize: 1`: its element in work and `prefetch` behind it.
    const perSlot = [...distributed.matchAll(/up to (\d+) elements in flight per slot/g)].map((m) => m[1]);
    expect(perSlot).toEqual(perSlot.map(() => String(NATS_DEFAULTS.prefetch + 1)));
  });

  it('rejects what it cannot take, naming the option', () => {
    const cases: Array<[string, unknown]> = [
      ['options', undefined],
      ['stream', {}],
      ['stream', { stream: 'has.dot' }],
      ['stream', { stream: 'a b' }],
      ['subject', { stream: 'jobs', subject: 'jobs.*' }],
      ['subject', { stream: 'jobs', subject: 'a..b' }],
      ['workers', { stream: 'jobs', workers: 0 }],
      ['workers', { stream: 'jobs', workers: 1.5 }],
      ['ackWait', { stream: 'jobs', ackWait: 0 }],
      ['ackWait', { stream: 'jobs', ackWait: 2 ** 31 }],
      ['maxAckPending', { stream: 'jobs', maxAckPending: 0 }],
      ['storage', { stream: 'jobs', storage: 'disk' }],
      ['maxAge', { stream: 'jobs', maxAge: -1 }],
      ['prefetch', { stream: 'jobs', prefetch: -1 }],
      ['cancelGrace', { stream: 'jobs', cancelGrace: '1s' }],
      ['idleTimeout', { stream: 'jobs', idleTimeout: Number.NaN }],
      ['servers', { stream: 'jobs', servers: 'http://x:1' }],
      ['servers', { stream: 'jobs', servers: [] }],
      ['user', { stream: 'jobs', pass: 'secret' }],
      ['token', { stream: 'jobs', token: '' }],
      ['tls', { stream: 'jobs', tls: 'on' }],
      ['tls.verify', { stream: 'jobs', tls: { verify: true } }],
      ['tls.caFile', { stream: 'jobs', tls: { caFile: 1 } }],
      ['connectOptions', { stream: 'jobs', connectOptions: 5 }],
      ['maxDeliver', { stream: 'jobs', maxDeliver: 3 }],
    ];
    for (const [option, options] of cases) expect(optionOf(() => natsScheduler(options as never)), JSON.stringify(options)).toBe(option);
  });

  it('takes servers as a URL, a comma-separated list or an array, and credentials and TLS settings', () => {
    for (const servers of ['nats://a:4222', 'nats://a:4222,nats://b:4222', ['tls://a:4222', 'nats://b:4222'], 'a:4222']) {
      expect(optionOf(() => natsScheduler({ stream: 'jobs', servers }))).toBeUndefined();
    }
    expect(
      optionOf(() =>
        natsScheduler({
          stream: 'jobs',
          user: 'alice',
          pass: 'secret',
          nkeySeed: 'SUA...',
          credentials: '/etc/nats/user.creds',
          tls: { caFile: 'ca.pem', certFile: 'c.pem', keyFile: 'c.key', handshakeFirst: true },
          connectOptions: { maxReconnectAttempts: 5 },
        }),
      ),
    ).toBeUndefined();
  });
});
