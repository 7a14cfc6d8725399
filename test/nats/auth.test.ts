// Credentials and TLS pass through to the NATS client on both sides: a server that requires mutual
// TLS and a user (password or nkey), and one that requires a token; the producer (natsScheduler
// options) and the workers (command flags) authenticate, and wrong credentials fail typed on the
// producer and loudly on the worker. Certificates are made by openssl for the test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { createUser } from '@nats-io/nkeys';
import { fromIterable, mapParallel, task, WorkerCrashedError } from 'rxjs-parallel';
import { natsScheduler } from 'rxjs-parallel/nats';
import { fixtures, startNatsServer, startWorker, type NatsServer } from '../support/nats.js';
import { record } from '../support/util.js';

const inc = task<number, number>(new URL('../fixtures/nats-tasks.mjs', import.meta.url), 'inc');
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

let dir: string;
let tlsServer: NatsServer;
let tokenServer: NatsServer;
let nkeySeed: string;
const file = (name: string) => join(dir, name);

/** A CA, and a server and a client certificate it signed (EC keys: quick to make). */
function makeCertificates(): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=rxjs-parallel test CA');
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const who of ['server', 'client']) {
    openssl('req', ...key, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who}`);
    const ext = who === 'server' ? ['-extfile', 'server.ext'] : [];
    openssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.pem`, '-days', '1', ...ext);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rxp-auth-'));
  makeCertificates();
  const user = createUser();
  nkeySeed = new TextDecoder().decode(user.getSeed());
  writeFileSync(file('user.nk'), nkeySeed);
  tlsServer = await startNatsServer({
    config: `
      tls {
        cert_file: "${file('server.pem')}"
        key_file: "${file('server.key')}"
        ca_file: "${file('ca.pem')}"
        verify: true
      }
      authorization {
        users = [
          { user: alice, password: "s3cret" }
          { nkey: ${user.getPublicKey()} }
        ]
      }
    `,
  });
  tokenServer = await startNatsServer({ args: ['--auth', 'opensesame'] });
});

afterAll(async () => {
  await tlsServer?.close();
  await tokenServer?.close();
  rmSync(dir, { recursive: true, force: true });
});

const tlsFlags = () => ['--tlsca', file('ca.pem'), '--tlscert', file('client.pem'), '--tlskey', file('client.key')];
const tls = () => ({ caFile: file('ca.pem'), certFile: file('client.pem'), keyFile: file('client.key') });

/** Runs 20 elements through one worker started with `flags`, on a scheduler made with `options`. */
async function roundTrip(server: NatsServer, stream: string, flags: string[], options: Record<string, unknown>): Promise<number[]> {
  const worker = startWorker(['--servers', server.url, '--stream', stream, '--concurrency', '2', ...flags, fixtures('nats-tasks.mjs')]);
  const nats = natsScheduler({ servers: server.url, stream, workers: 2, ...options });
  try {
    await worker.ready;
    return await lastValueFrom(fromIterable(range(20)).pipe(mapParallel(inc, { scheduler: nats, ordered: true }), toArray()));
  } finally {
    await nats.close();
    await worker.stop();
  }
}

describe('natsScheduler and rxjs-parallel-worker with authentication on', () => {
  it('user and password, over mutual TLS', { timeout: 30_000 }, async () => {
    const out = await roundTrip(tlsServer, 'alice', ['--user', 'alice', '--password', 's3cret', ...tlsFlags()], { user: 'alice', pass: 's3cret', tls: tls() });
    expect(out).toEqual(range(20).map((x) => x + 1));
  });

  it('an nkey (a seed file for the worker, the seed for the producer), over mutual TLS', { timeout: 30_000 }, async () => {
    const out = await roundTrip(tlsServer, 'nkey', ['--nkey', file('user.nk'), ...tlsFlags()], { nkeySeed, tls: tls() });
    expect(out).toEqual(range(20).map((x) => x + 1));
  });

  it('a token; the worker reads it from NATS_TOKEN as well as from --token', { timeout: 30_000 }, async () => {
    const out = await roundTrip(tokenServer, 'token', ['--token', 'opensesame'], { token: 'opensesame' });
    expect(out).toEqual(range(20).map((x) => x + 1));
    const worker = startWorker(['--servers', tokenServer.url, '--stream', 'token', fixtures('nats-tasks.mjs')], {
      env: { ...process.env, NATS_TOKEN: 'opensesame' },
    });
    await worker.ready;
    expect(await worker.stop()).toEqual({ code: 0, signal: null });
  });

  it('wrong credentials: the worker exits 1 saying so, the stage fails with WorkerCrashedError', { timeout: 30_000 }, async () => {
    const worker = startWorker(['--servers', tokenServer.url, '--stream', 'wrong', '--token', 'guess', fixtures('nats-tasks.mjs')]);
    expect(await worker.exited).toEqual({ code: 1, signal: null });
    expect(worker.stderr()).toContain('cannot start');
    const nats = natsScheduler({ servers: tokenServer.url, stream: 'wrong', token: 'guess' });
    try {
      const { result } = record(fromIterable([1]).pipe(mapParallel(inc, { scheduler: nats, workers: 1 })));
      const { error } = await result;
      expect(error).toBeInstanceOf(WorkerCrashedError);
    } finally {
      await nats.close();
    }
  });
});

