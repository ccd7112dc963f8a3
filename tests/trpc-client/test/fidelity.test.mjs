// What a T3-style frontend meets when it switches its backend to packshot
// (issue 14): a transformer mismatch it can diagnose, validation errors in
// data.zodError, every error field the server sends, the reference server's
// content-type rules and superjson's referentialEqualities.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { EventSource } from 'eventsource';
import { SuperJSON } from 'superjson';
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  httpBatchStreamLink,
  httpLink,
  httpSubscriptionLink,
  wsLink,
} from '@trpc/client';
import { assertTRPCError, collect, rejection, startServer, transformers, tx } from './helpers.mjs';

const other = { json: 'superjson', superjson: 'json' };

// Item 1: a client whose transformer is not the server's gets a BAD_REQUEST
// it can read, naming the setting, on every link that carries an input.
for (const server of transformers) {
  const client = other[server];
  describe(`a ${client} client against a ${server} server`, () => {
    let srv;
    let ws;
    before(async () => {
      srv = await startServer(server);
    });
    after(async () => {
      ws?.close();
      await srv.stop();
    });

    const links = {
      httpLink: () => httpLink({ url: srv.url, ...tx(client) }),
      httpBatchLink: () => httpBatchLink({ url: srv.url, ...tx(client) }),
      // Each JSONL line is read with the client's transformer: the server
      // writes the whole stream in it.
      httpBatchStreamLink: () => httpBatchStreamLink({ url: srv.url, ...tx(client) }),
      wsLink: () => {
        ws = createWSClient({ url: srv.wsUrl, WebSocket, retryDelayMs: () => 50 });
        return wsLink({ client: ws, ...tx(client) });
      },
    };
    for (const [name, link] of Object.entries(links)) {
      it(`is told to fix PACKSHOT_TRPC_TRANSFORMER over ${name}`, async () => {
        const trpc = createTRPCClient({ links: [link()] });
        for (const call of [() => trpc.greet.query({ name: 'ada' }), () => trpc.post.add.mutate({ title: 'x' })]) {
          const err = await rejection(call());
          assertTRPCError(assert, err, { code: 'BAD_REQUEST', httpStatus: 400, rpc: -32600 });
          assert.match(err.message, /PACKSHOT_TRPC_TRANSFORMER/);
          assert.match(err.message, new RegExp(`transformer is ${server}`));
          assert.equal(err.data.zodError, null);
        }
      });
    }

    it('is told over httpSubscriptionLink too', async () => {
      const trpc = createTRPCClient({
        links: [httpSubscriptionLink({ url: srv.url, EventSource, ...tx(client) })],
      });
      const err = await rejection(collect((h) => trpc.counter.subscribe({ to: 2 }, h), (evs) => evs.length === 2));
      assertTRPCError(assert, err, { code: 'BAD_REQUEST', httpStatus: 400 });
      assert.match(err.message, /PACKSHOT_TRPC_TRANSFORMER/);
    });
  });
}

for (const transformer of transformers) {
  describe(`error shape and content types (${transformer})`, () => {
    let srv;
    let client;
    let stream;
    before(async () => {
      srv = await startServer(transformer);
      client = createTRPCClient({ links: [httpLink({ url: srv.url, ...tx(transformer) })] });
      stream = createTRPCClient({ links: [httpBatchStreamLink({ url: srv.url, ...tx(transformer) })] });
    });
    after(() => srv.stop());

    // Item 2: what create-t3-app's errorFormatter sends and its forms read.
    it('puts zod-style flattened field errors in data.zodError', async () => {
      for (const c of [client, stream]) {
        const err = await rejection(c.post.add.mutate({ title: '  ' }));
        assertTRPCError(assert, err, { code: 'BAD_REQUEST', httpStatus: 400 });
        assert.deepEqual(err.data.zodError, { formErrors: [], fieldErrors: { title: ['must not be empty'] } });
        assert.deepEqual(err.data?.zodError?.fieldErrors.title, ['must not be empty']);
        assert.deepEqual(err.data.fieldErrors, { title: 'must not be empty' });
      }
      const wrongType = await rejection(client.post.byId.query({ id: 'one' }));
      assert.deepEqual(Object.keys(wrongType.data.zodError.fieldErrors), ['id']);
    });

    it('sends zodError null for errors that are not about the input', async () => {
      const err = await rejection(client.post.byId.query({ id: 7 }));
      assertTRPCError(assert, err, { code: 'NOT_FOUND', httpStatus: 404 });
      assert.equal(err.data.zodError, null);
    });

    // Item 3: every field the server sends; types.test.mjs type-checks reading them.
    it('sends data.retryAfterSeconds with TOO_MANY_REQUESTS', async () => {
      const err = await rejection(client.limited.query());
      assertTRPCError(assert, err, { code: 'TOO_MANY_REQUESTS', httpStatus: 429, rpc: -32029, message: 'Slow down' });
      assert.deepEqual(err.shape, {
        message: 'Slow down',
        code: -32029,
        data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429, path: 'limited', zodError: null, retryAfterSeconds: 3 },
      });
    });

    // Item 10: the reference server (fetch adapter) refuses a POST without a
    // content-type even with no body, and takes an empty JSON body as undefined.
    it('refuses a POST without content-type and takes an empty JSON body as undefined', async () => {
      const bare = await fetch(`${srv.url}/nothing`, { method: 'POST' });
      assert.equal(bare.status, 415);
      const body = await bare.json();
      const shape = transformer === 'superjson' ? body.error.json : body.error;
      assert.equal(shape.message, 'Missing content-type header');
      assert.equal(shape.data.code, 'UNSUPPORTED_MEDIA_TYPE');

      const empty = await fetch(`${srv.url}/nothing`, { method: 'POST', headers: { 'content-type': 'application/json' } });
      assert.equal(empty.status, 200);
      // httpLink sends exactly that for a mutation without input.
      assert.equal(await client.nothing.mutate(), undefined);
    });
  });
}

// Item 10: superjson's referentialEqualities are honoured. With dedupe the
// client sends a repeated object once and null in its other places.
describe('superjson referentialEqualities', () => {
  let srv;
  before(async () => {
    srv = await startServer('superjson');
  });
  after(() => srv.stop());

  for (const dedupe of [true, false]) {
    it(`restores repeated values (dedupe: ${dedupe})`, async () => {
      const sj = new SuperJSON({ dedupe });
      const client = createTRPCClient({ links: [httpLink({ url: srv.url, transformer: sj })] });
      const stamp = { at: new Date('2024-05-06T07:08:09.010Z'), tags: new Set(['a', 'b']) };
      const out = await client.refs.echo.mutate({ first: stamp, second: stamp, list: [stamp, stamp] });
      for (const s of [out.first, out.second, ...out.list]) {
        assert.ok(s.at instanceof Date);
        assert.equal(s.at.toISOString(), '2024-05-06T07:08:09.010Z');
        assert.deepEqual([...s.tags].sort(), ['a', 'b']);
      }
      assert.equal(out.list.length, 2);
    });

    it(`restores repeated values inside a Map (dedupe: ${dedupe})`, async () => {
      const sj = new SuperJSON({ dedupe });
      const client = createTRPCClient({ links: [httpLink({ url: srv.url, transformer: sj })] });
      const stamp = { at: new Date('2024-05-06T07:08:09.010Z'), tags: new Set(['a']) };
      const byName = new Map([['a', stamp], ['b', stamp]]);
      const out = await client.refs.echo.mutate({ first: stamp, second: stamp, list: [], byName });
      assert.ok(out.byName instanceof Map);
      assert.deepEqual([...out.byName.keys()], ['a', 'b']);
      for (const s of out.byName.values()) {
        assert.equal(s.at.toISOString(), '2024-05-06T07:08:09.010Z');
        assert.deepEqual([...s.tags], ['a']);
      }
    });
  }
});
