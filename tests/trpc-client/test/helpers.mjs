// Starts the Go test server and builds tRPC clients for it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import superjson from 'superjson';

const here = path.dirname(fileURLToPath(import.meta.url));
export const serverBin = process.env.TRPC_SERVER_BIN ?? path.join(here, '..', 'server-bin');

export const transformers = ['json', 'superjson'];

/** Options every link needs for the transformer. */
export function tx(transformer) {
  return transformer === 'superjson' ? { transformer: superjson } : {};
}

/**
 * Starts the server and resolves once it listens. Pass addr to reuse a port
 * (server restarts).
 */
export async function startServer(transformer, addr = '127.0.0.1:0', args = []) {
  const proc = spawn(serverBin, ['-addr', addr, '-transformer', transformer, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: proc.stdout });
  const [line] = await Promise.race([
    once(lines, 'line'),
    once(proc, 'exit').then(([code]) => {
      throw new Error(`server exited with ${code}`);
    }),
  ]);
  const m = /^listening (.+)$/.exec(line);
  if (!m) throw new Error(`unexpected server output: ${line}`);
  const listen = m[1];
  const exited = once(proc, 'exit');
  return {
    addr: listen,
    http: `http://${listen}`,
    url: `http://${listen}/trpc`,
    wsUrl: `ws://${listen}/ws`,
    /** Stops the server gracefully (SIGTERM) and waits for it to exit. */
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
    },
    /**
     * Starts a graceful shutdown (SIGTERM) and resolves once the server has
     * stopped listening, so another can take its address while open
     * WebSockets drain. `exited` resolves when the process is gone.
     */
    async terminate() {
      const closed = once(lines, 'line');
      if (proc.exitCode === null) proc.kill('SIGTERM');
      const [line] = await Promise.race([closed, exited.then(() => ['exited'])]);
      if (line !== 'stopped listening' && line !== 'exited') throw new Error(`unexpected server output: ${line}`);
    },
    exited,
    /** Drains the router (SIGUSR1) while the server keeps accepting connections. */
    drain() {
      proc.kill('SIGUSR1');
    },
  };
}

/** Resolves with the error a promise rejects with; fails if it resolves. */
export async function rejection(p) {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

/** Asserts the parts of a TRPCClientError a user checks. */
export function assertTRPCError(assert, err, { code, httpStatus, message, rpc }) {
  assert.equal(err.name, 'TRPCClientError', String(err));
  assert.equal(err.data?.code, code);
  assert.equal(err.data?.httpStatus, httpStatus);
  if (rpc !== undefined) assert.equal(err.shape?.code, rpc);
  if (message !== undefined) assert.equal(err.message, message);
}

/** Collects subscription events until `until(events)` holds. */
export function collect(subscribe, until) {
  return new Promise((resolve, reject) => {
    const events = [];
    let done = false;
    const sub = subscribe({
      onData(ev) {
        if (done) return;
        events.push(ev);
        if (until(events)) {
          done = true;
          sub.unsubscribe();
          resolve(events);
        }
      },
      onError(err) {
        done = true;
        reject(err);
      },
      onComplete() {
        if (!done) resolve(events);
      },
    });
  });
}

