// Starts and stops a throwaway `nats-server` with JetStream, for the NATS tests (test/nats), the
// benchmark (bench/nats.mjs) and the example (examples/distributed): a free port on one address
// (loopback by default), JetStream in a temporary directory, ready when the server says so. The
// binary comes from scripts/ensure-nats-server.sh, which installs Debian's package when it is
// missing. In production, run your own server (docs/distributed.md).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ensureScript = fileURLToPath(new URL('./ensure-nats-server.sh', import.meta.url));
let binary;

/** The path of nats-server, installing it first when it is missing (apt-get: seconds; once). */
export function natsServerPath() {
  binary ??= execFileSync('bash', [ensureScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 15 * 60_000 }).trim();
  return binary;
}

/**
 * Starts nats-server and resolves once it listens, with JetStream on.
 * @param {object} [options]
 * @param {string} [options.host] Address to listen on (default 127.0.0.1).
 * @param {number} [options.port] Client port (default: a free one, chosen by the server).
 * @param {string} [options.storeDir] JetStream directory (default: a new temporary one, removed by stop()).
 * @param {string} [options.config] Text of a configuration file (authorization, tls ...), passed with -c.
 * @param {string[]} [options.args] More command-line arguments.
 * @param {string} [options.netns] Run inside this network namespace (`ip netns exec`).
 */
export async function startNatsServer(options = {}) {
  const host = options.host ?? '127.0.0.1';
  const ownStore = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'rxp-nats-'));
  const args = ['-a', host, '-p', String(options.port ?? -1), '-m', '-1', '-js', '-sd', storeDir];
  if (options.config !== undefined) {
    const file = join(storeDir, 'server.conf');
    writeFileSync(file, options.config);
    args.push('-c', file);
  }
  args.push(...(options.args ?? []));
  const server = {
    host,
    storeDir,
    port: 0,
    url: '',
    monitorUrl: '',
    process: undefined,
    log: '',
    /** Stops it with SIGTERM (a clean shutdown) and waits for the exit. */
    stop: () => stop('SIGTERM'),
    /** Kills it with SIGKILL and waits for the exit. */
    kill: () => stop('SIGKILL'),
    /** Stops it and starts it again on the same port with the same JetStream directory. */
    async restart() {
      await stop('SIGTERM');
      await launch(['-a', host, '-p', String(server.port), ...args.slice(4)]);
    },
    /** Stops it and removes the directory it made. */
    async close() {
      await stop('SIGTERM');
      if (ownStore) rmSync(storeDir, { recursive: true, force: true });
    },
  };

  async function launch(argv) {
    const command = options.netns ? ['ip', ['netns', 'exec', options.netns, natsServerPath(), ...argv]] : [natsServerPath(), argv];
    const child = spawn(command[0], command[1], { stdio: ['ignore', 'ignore', 'pipe'] });
    server.process = child;
    server.log = '';
    await new Promise((resolve, reject) => {
      const onExit = (code, signal) => reject(new Error(`nats-server exited (${code ?? signal}) before it was ready:\n${server.log}`));
      child.once('exit', onExit);
      child.once('error', reject);
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk) => {
        server.log += chunk;
        const client = /Listening for client connections on (\S+):(\d+)/.exec(server.log);
        const monitor = /Starting http monitor on (\S+):(\d+)/.exec(server.log);
        if (client && monitor && server.log.includes('Server is ready')) {
          server.port = Number(client[2]);
          server.url = `nats://${host}:${server.port}`;
          server.monitorUrl = `http://${monitor[1]}:${monitor[2]}`;
          child.off('exit', onExit);
          resolve();
        }
      });
    });
  }

  function stop(signal) {
    const child = server.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  await launch(args);
  return server;
}
