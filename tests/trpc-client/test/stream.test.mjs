// A streaming query (trpc.Stream) with the published @trpc/client: an async
// iterable over httpBatchStreamLink (for await), and the same procedure as a
// subscription over wsLink and httpSubscriptionLink, with and without
// superjson.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import {
  createTRPCClient,
  createWSClient,
  httpBatchStreamLink,
  httpLink,
  httpSubscriptionLink,
  wsLink,
} from '@trpc/client';
import { assertTRPCError, collect, rejection, startServer, transformers, tx } from './helpers.mjs';

const at = (transformer) => (transformer === 'superjson' ? new Date('2024-01-02T03:04:05Z') : '2024-01-02T03:04:05Z');

for (const transformer of transformers) {
  describe(`streaming query (${transformer})`, () => {
    let server;
    before(async () => {
      server = await startServer(transformer);
    });
    after(() => server?.stop());

    const ticks = (n) => Array.from({ length: n }, (_, i) => ({ n: i + 1, at: at(transformer) }));

    it('yields values to for-await over httpBatchStreamLink, batched with a query', async () => {
      const client = createTRPCClient({ links: [httpBatchStreamLink({ url: server.url, ...tx(transformer) })] });
      const [iterable, greeting] = await Promise.all([client.ticks.query({ to: 3 }), client.greet.query({ name: 'ada' })]);
      const got = [];
      for await (const tick of iterable) got.push(tick);
      assert.deepEqual(got, ticks(3));
      assert.equal(greeting.text, 'hello ada');
    });

    it('ends for-await with the stream\'s error', async () => {
      const client = createTRPCClient({ links: [httpBatchStreamLink({ url: server.url, ...tx(transformer) })] });
      const got = [];
      const err = await rejection((async () => {
        for await (const tick of await client.ticks.query({ to: 1, fail: true })) got.push(tick);
      })());
      assert.deepEqual(got, ticks(1));
      assertTRPCError(assert, err, { code: 'CONFLICT', httpStatus: 409, message: 'Ticks ran out' });
    });

    it('stops an endless stream when the loop breaks', async () => {
      const client = createTRPCClient({ links: [httpBatchStreamLink({ url: server.url, ...tx(transformer) })] });
      const got = [];
      for await (const tick of await client.ticks.query({})) {
        got.push(tick.n);
        if (got.length === 3) break;
      }
      assert.deepEqual(got, [1, 2, 3]);
    });

    it('is refused over httpLink as the reference refuses an iterable without JSONL', async () => {
      const client = createTRPCClient({ links: [httpLink({ url: server.url, ...tx(transformer) })] });
      const err = await rejection(client.ticks.query({ to: 1 }));
      assertTRPCError(assert, err, { code: 'UNSUPPORTED_MEDIA_TYPE', httpStatus: 415 });
    });

    it('is a subscription over wsLink', async () => {
      const wsClient = createWSClient({ url: server.wsUrl, WebSocket });
      try {
        const client = createTRPCClient({ links: [wsLink({ client: wsClient, ...tx(transformer) })] });
        assert.deepEqual(await collect((o) => client.ticks.subscribe({ to: 3 }, o), () => false), ticks(3));
        const err = await collect((o) => client.ticks.subscribe({ fail: true, to: 1 }, o), () => false).then(
          () => assert.fail('expected an error'),
          (e) => e,
        );
        assert.equal(err.data?.code, 'CONFLICT');
        // Called as a query over the socket it is refused, as the reference refuses it.
        assertTRPCError(assert, await rejection(client.ticks.query({ to: 1 })), { code: 'UNSUPPORTED_MEDIA_TYPE', httpStatus: 415 });
      } finally {
        await wsClient.close();
      }
    });

    it('is a subscription over httpSubscriptionLink', async () => {
      const client = createTRPCClient({ links: [httpSubscriptionLink({ url: server.url, EventSource, ...tx(transformer) })] });
      assert.deepEqual(await collect((o) => client.ticks.subscribe({ to: 3 }, o), () => false), ticks(3));
    });
  });
}
