// wsLink against the Go server, with and without superjson, plus the raw
// frames the protocol promises.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket from 'ws';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { assertTRPCError, collect, rejection, startServer, transformers, tx } from './helpers.mjs';

function wsClient(server, transformer, opts = {}) {
  const ws = createWSClient({ url: server.wsUrl, WebSocket, retryDelayMs: () => 50, ...opts });
  return { ws, client: createTRPCClient({ links: [wsLink({ client: ws, ...tx(transformer) })] }) };
}

/** Opens a raw socket and returns helpers to send and read frames. */
async function rawSocket(url, headers = {}) {
  const sock = new WebSocket(url, { headers });
  const frames = [];
  const waiters = [];
  sock.on('message', (data) => {
    frames.push(data.toString());
    waiters.splice(0).forEach((w) => w());
  });
  await once(sock, 'open');
  return {
    send: (s) => sock.send(s),
    async next() {
      while (frames.length === 0) await new Promise((r) => waiters.push(r));
      return frames.shift();
    },
    close: () => sock.close(),
  };
}

for (const transformer of transformers) {
  describe(`wsLink (${transformer})`, () => {
    let server;
    before(async () => {
      server = await startServer(transformer);
    });
    after(() => server?.stop());

    it('runs queries and mutations, and reports errors per call', async () => {
      const { ws, client } = wsClient(server, transformer);
      try {
        const [g, p, missing, invalid] = await Promise.allSettled([
          client.greet.query({ name: 'ws' }),
          client.post.add.mutate({ title: 'over ws' }),
          client.post.byId.query({ id: 5 }),
          client.post.add.mutate({ title: '' }),
        ]);
        assert.equal(g.value.text, 'hello ws');
        if (transformer === 'superjson') assert.ok(g.value.at instanceof Date);
        assert.equal(p.value.title, 'over ws');
        assertTRPCError(assert, missing.reason, { code: 'NOT_FOUND', httpStatus: 404, rpc: -32004, message: 'Post 5 not found' });
        assertTRPCError(assert, invalid.reason, { code: 'BAD_REQUEST', httpStatus: 400 });
        assert.deepEqual(invalid.reason.data.fieldErrors, { title: 'must not be empty' });
        assert.equal(await client.nothing.mutate(), undefined);
        const unauth = await rejection(client.auth.whoami.query());
        assertTRPCError(assert, unauth, { code: 'UNAUTHORIZED', httpStatus: 401 });
      } finally {
        ws.close();
      }
    });

    it('authenticates from connectionParams', async () => {
      const { ws, client } = wsClient(server, transformer, { connectionParams: { token: 'secret' } });
      try {
        assert.deepEqual(await client.auth.whoami.query(), { user: 'alice' });
        const events = await collect((o) => client.auth.events.subscribe(undefined, o), (e) => e.length === 1);
        assert.deepEqual(events, [{ id: '1', data: { user: 'alice' } }]);
      } finally {
        ws.close();
      }
    });

    it('runs a subscription to completion with tracked events', async () => {
      const { ws, client } = wsClient(server, transformer);
      try {
        const events = await collect((o) => client.counter.subscribe({ to: 4, everyMs: 5 }, o), () => false);
        assert.deepEqual(events, [1, 2, 3, 4].map((n) => ({ id: String(n), data: { n } })));
      } finally {
        ws.close();
      }
    });

    it('resumes a subscription after a server restart without gaps or duplicates', async () => {
      const { ws, client } = wsClient(server, transformer);
      let restart = null;
      let countWhenUp = -1;
      try {
        const events = await collect(
          (o) => client.counter.subscribe({ everyMs: 20 }, o),
          (e) => {
            if (e.length === 5 && !restart) {
              // The old server sends "reconnect" and drains; the client
              // resubscribes on the new one with lastEventId.
              restart = server.stop()
                .then(() => startServer(transformer, server.addr))
                .then((s) => { server = s; countWhenUp = e.length; });
            }
            return countWhenUp >= 0 && e.length >= countWhenUp + 5;
          },
        );
        await restart;
        assert.ok(countWhenUp >= 5);
        assert.deepEqual(events.map((e) => e.data.n), Array.from({ length: events.length }, (_, i) => i + 1));
        assert.deepEqual(events.map((e) => e.id), events.map((e) => String(e.data.n)));
      } finally {
        ws.close();
      }
    });

    it('speaks the raw protocol: PING/PONG, arrays, started/data/stopped, id:null errors', async () => {
      const sock = await rawSocket(server.wsUrl);
      try {
        const input = (v) => (transformer === 'superjson' ? { json: v } : v);
        sock.send('PING');
        assert.equal(await sock.next(), 'PONG');
        sock.send(JSON.stringify({ id: null, method: 'query', params: { path: 'greet', input: input({ name: 'a' }) } }));
        const nullErr = JSON.parse(await sock.next());
        assert.equal(nullErr.id, null);
        const shape = transformer === 'superjson' ? nullErr.error.json : nullErr.error;
        assert.equal(shape.data.code, 'PARSE_ERROR');
        sock.send(JSON.stringify([
          { id: 1, method: 'subscription', params: { path: 'counter', input: input({ everyMs: 5 }), lastEventId: '41' } },
          { id: 1, method: 'subscription', params: { path: 'counter', input: input({}) } },
        ]));
        // The duplicate is refused at once; "started" comes from the
        // subscription's own goroutine, so the two may arrive in any order.
        const two = [JSON.parse(await sock.next()), JSON.parse(await sock.next())];
        const dup = two.find((f) => 'error' in f);
        assert.deepEqual(two.find((f) => 'result' in f), { id: 1, result: { type: 'started' } });
        const dupShape = transformer === 'superjson' ? dup.error.json : dup.error;
        assert.equal(dupShape.message, 'Duplicate id 1');
        const first = JSON.parse(await sock.next());
        assert.equal(first.result.type, 'data');
        assert.equal(first.result.id, '42');
        sock.send(JSON.stringify({ id: 1, method: 'subscription.stop' }));
        sock.send('PING');
        let f;
        do f = await sock.next(); while (f !== 'PONG' && JSON.parse(f).result.type === 'data');
        assert.deepEqual(JSON.parse(f), { id: 1, result: { type: 'stopped' } });
        assert.equal(await sock.next(), 'PONG');
      } finally {
        sock.close();
      }
    });

    it('refuses a bad subscription input before "started", and a procedure of another type as NOT_FOUND', async () => {
      const { ws, client } = wsClient(server, transformer);
      const subscribeError = (sub) => new Promise((resolve, reject) => {
        let started = false;
        sub({
          onStarted: () => { started = true; },
          onData: () => reject(new Error('data from a refused subscription')),
          onError: (err) => resolve({ err, started }),
        });
      });
      try {
        const bad = await subscribeError((o) => client.counter.subscribe({ to: 'three' }, o));
        assertTRPCError(assert, bad.err, { code: 'BAD_REQUEST', httpStatus: 400, rpc: -32600 });
        assert.equal(bad.started, false, 'onStarted ran for a subscription refused for its input');

        const asQuery = await rejection(client.counter.query({ to: 1 }));
        assertTRPCError(assert, asQuery, { code: 'NOT_FOUND', httpStatus: 404, rpc: -32004, message: 'No "query"-procedure on path "counter"' });
        const asSub = await subscribeError((o) => client.greet.subscribe({ name: 'x' }, o));
        assertTRPCError(assert, asSub.err, { code: 'NOT_FOUND', httpStatus: 404, rpc: -32004, message: 'No "subscription"-procedure on path "greet"' });
        assert.equal(asSub.started, false);
        // The socket serves on.
        assert.equal((await client.greet.query({ name: 'still' })).text, 'hello still');
      } finally {
        ws.close();
      }
    });

    it('answers the calls in flight on the old socket after a reconnect notice', async () => {
      // A server of its own, whose drain outlasts the slow query.
      const old = await startServer(transformer, '127.0.0.1:0', ['-drain', '10s']);
      const { ws, client } = wsClient(old, transformer);
      let next = null;
      try {
        let moved = null;
        let failure = null;
        let countWhenMoved = -1;
        const run = async () => {
          const slow = client.wait.query({ ms: 400, value: 'answered' });
          // Sent after the slow query on the same socket: once this is
          // answered, the server is running the slow one.
          assert.equal((await client.greet.query({ name: 'x' })).text, 'hello x');
          await old.terminate(); // "reconnect" to every socket; the address is free
          next = await startServer(transformer, old.addr);
          // Sent while the client opens its new socket: it may go to either.
          const during = client.greet.query({ name: 'during' });
          assert.equal(await slow, 'answered');
          assert.equal((await during).text, 'hello during');
          // The client leaves the old socket once its calls are answered, and
          // the old server exits long before its 10 s drain.
          await old.exited;
          assert.equal((await client.greet.query({ name: 'after' })).text, 'hello after');
        };
        const evs = await collect(
          (o) => client.counter.subscribe({ everyMs: 20 }, o),
          (e) => {
            if (e.length === 3 && !moved) {
              moved = run().then(() => { countWhenMoved = e.length; }, (err) => { failure = err; });
            }
            return failure !== null || (countWhenMoved >= 0 && e.length >= countWhenMoved + 3);
          },
        );
        await moved;
        if (failure) throw failure;
        assert.deepEqual(evs.map((e) => e.data.n), Array.from({ length: evs.length }, (_, i) => i + 1));
      } finally {
        ws.close();
        await old.stop();
        await next?.stop();
      }
    });

    it('answers a call running when the token expires before the socket closes', async () => {
      // "brief" expires 500 ms after it authenticates a socket, which then gets
      // the reconnect notice and a 200 ms grace.
      const own = await startServer(transformer, '127.0.0.1:0', ['-brief-token-ttl', '500ms', '-ws-auth-timeout', '200ms']);
      const { ws, client } = wsClient(own, transformer, { connectionParams: { token: 'brief' } });
      try {
        assert.deepEqual(await client.auth.whoami.query(), { user: 'alice' });
        // Sent at once, it runs past the expiry and the grace.
        assert.equal(await client.wait.query({ ms: 1500, value: 'answered' }), 'answered');
      } finally {
        ws.close();
        await own.stop();
      }
    });

    it('checks Origin against the allowed origins', async () => {
      const good = await rawSocket(server.wsUrl, { origin: 'https://allowed.example' });
      good.close();
      const bad = new WebSocket(server.wsUrl, { headers: { origin: 'https://evil.example' } });
      const [err] = await once(bad, 'error');
      assert.match(err.message, /403/);
    });
  });
}
