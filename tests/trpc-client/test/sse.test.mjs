// httpSubscriptionLink (server-sent events) against the Go server, with and
// without superjson.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { createTRPCClient, httpSubscriptionLink } from '@trpc/client';
import { collect, startServer, transformers, tx } from './helpers.mjs';

function sseClient(server, transformer, opts = {}) {
  return createTRPCClient({ links: [httpSubscriptionLink({ url: server.url, EventSource, ...tx(transformer), ...opts })] });
}

for (const transformer of transformers) {
  describe(`httpSubscriptionLink (${transformer})`, () => {
    let server;
    before(async () => {
      server = await startServer(transformer);
    });
    after(() => server?.stop());

    it('streams tracked events and completes on "return"', async () => {
      const client = sseClient(server, transformer);
      const events = await collect((o) => client.counter.subscribe({ to: 3, everyMs: 5 }, o), () => false);
      assert.deepEqual(events, [1, 2, 3].map((n) => ({ id: String(n), data: { n } })));
    });

    it('authenticates from connectionParams and fails without them', async () => {
      const authed = sseClient(server, transformer, { connectionParams: { token: 'secret' } });
      const events = await collect((o) => authed.auth.events.subscribe(undefined, o), () => false);
      assert.deepEqual(events, [{ id: '1', data: { user: 'alice' } }]);
      const anon = sseClient(server, transformer);
      const err = await collect((o) => anon.auth.events.subscribe(undefined, o), () => false).then(
        () => assert.fail('expected an error'),
        (e) => e,
      );
      assert.equal(err.data?.code, 'UNAUTHORIZED');
      assert.equal(err.data?.httpStatus, 401);
    });

    it('resumes from Last-Event-ID after a server restart without gaps or duplicates', async () => {
      const client = sseClient(server, transformer);
      let restart = null;
      let countWhenUp = -1;
      const events = await collect(
        (o) => client.counter.subscribe({ everyMs: 20 }, o),
        (e) => {
          if (e.length === 5 && !restart) {
            // The stream ends without "return", so EventSource reconnects.
            restart = server.stop()
              .then(() => startServer(transformer, server.addr))
              .then((s) => { server = s; countWhenUp = e.length; });
          }
          return countWhenUp >= 0 && e.length >= countWhenUp + 5;
        },
      );
      await restart;
      assert.deepEqual(events.map((e) => e.data.n), Array.from({ length: events.length }, (_, i) => i + 1));
      assert.deepEqual(events.map((e) => e.id), events.map((e) => String(e.data.n)));
    });

    it('keeps retrying when a reconnect reaches a draining server, then resumes', async () => {
      // A server of its own, drained (SIGUSR1) while it still accepts
      // connections, as an instance is while a load balancer still sends it
      // requests.
      const own = await startServer(transformer);
      let next = null;
      try {
        const client = sseClient(own, transformer);
        let drained = false;
        let endings = 0;
        let restart = null;
        let countWhenUp = -1;
        const events = await new Promise((resolve, reject) => {
          const got = [];
          const sub = client.counter.subscribe({ everyMs: 20 }, {
            onData(ev) {
              got.push(ev);
              if (got.length === 3 && !drained) {
                drained = true;
                own.drain();
              }
              if (countWhenUp >= 0 && got.length >= countWhenUp + 3) {
                sub.unsubscribe();
                resolve(got);
              }
            },
            onError: reject, // an EventSource that gave up
            onConnectionStateChange(state) {
              if (!drained || state.state !== 'connecting' || !state.error) return;
              // The first: the drained stream ended. The second: a reconnect
              // reached the draining server, which asked it to retry.
              if (++endings === 2) {
                restart = own.terminate()
                  .then(() => startServer(transformer, own.addr))
                  .then((s) => { next = s; countWhenUp = got.length; }, reject);
              }
            },
          });
        });
        await restart;
        assert.ok(endings >= 2);
        assert.deepEqual(events.map((e) => e.data.n), Array.from({ length: events.length }, (_, i) => i + 1));
        assert.deepEqual(events.map((e) => e.id), events.map((e) => String(e.data.n)));
      } finally {
        await own.stop();
        await next?.stop();
      }
    });

    it('sends the SSE headers and events byte for byte', async () => {
      const input = encodeURIComponent(JSON.stringify(transformer === 'superjson' ? { json: { to: 2, everyMs: 1 } } : { to: 2, everyMs: 1 }));
      const res = await fetch(`${server.url}/counter?input=${input}`, { headers: { 'Last-Event-ID': '7' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/event-stream');
      assert.equal(res.headers.get('cache-control'), 'no-cache, no-transform');
      const body = await res.text();
      const data = (n) => (transformer === 'superjson' ? `{"json":{"n":${n}}}` : `{"n":${n}}`);
      // to:2 after lastEventId 7 ends at once with "return".
      assert.equal(body, 'event: connected\ndata: {"reconnectAfterInactivityMs":3000}\nretry: 100\n\nevent: return\ndata: \n\n');
      const res2 = await fetch(`${server.url}/counter?input=${input}`);
      assert.equal(await res2.text(),
        `event: connected\ndata: {"reconnectAfterInactivityMs":3000}\nretry: 100\n\ndata: ${data(1)}\nid: 1\n\ndata: ${data(2)}\nid: 2\n\nevent: return\ndata: \n\n`);
    });
  });
}
