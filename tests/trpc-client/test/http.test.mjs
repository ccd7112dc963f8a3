// httpLink, httpBatchLink and httpBatchStreamLink against the Go server,
// with and without superjson.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTRPCClient, httpBatchLink, httpBatchStreamLink, httpLink, splitLink, isNonJsonSerializable } from '@trpc/client';
import { assertTRPCError, rejection, startServer, transformers, tx } from './helpers.mjs';

for (const transformer of transformers) {
  describe(`HTTP links (${transformer})`, () => {
    let server;
    let client;
    before(async () => {
      server = await startServer(transformer);
      client = createTRPCClient({ links: [httpLink({ url: server.url, ...tx(transformer) })] });
    });
    after(() => server.stop());

    it('runs a query with input and returns its output', async () => {
      const out = await client.greet.query({ name: 'ada' });
      assert.equal(out.text, 'hello ada');
      if (transformer === 'superjson') {
        assert.ok(out.at instanceof Date);
        assert.equal(out.at.toISOString(), '2024-01-02T03:04:05.006Z');
      } else {
        assert.equal(out.at, '2024-01-02T03:04:05.006Z');
      }
    });

    it('sends nil slices as [] and nil pointers as null', async () => {
      const post = await client.post.byId.query({ id: 1 });
      assert.deepEqual(post, { id: 1, title: 'first', tags: [], note: null });
    });

    it('runs a mutation, and a void mutation returns undefined', async () => {
      const post = await client.post.add.mutate({ title: 'new', tags: ['a'] });
      assert.deepEqual(post, { id: 2, title: 'new', tags: ['a'], note: null });
      assert.equal(await client.nothing.mutate(), undefined);
    });

    it('answers NOT_FOUND from the procedure', async () => {
      const err = await rejection(client.post.byId.query({ id: 7 }));
      assertTRPCError(assert, err, { code: 'NOT_FOUND', httpStatus: 404, rpc: -32004, message: 'Post 7 not found' });
      assert.equal(err.data.path, 'post.byId');
    });

    it('answers BAD_REQUEST with field messages when validation fails', async () => {
      const err = await rejection(client.post.add.mutate({ title: '  ' }));
      assertTRPCError(assert, err, { code: 'BAD_REQUEST', httpStatus: 400, rpc: -32600, message: 'invalid input: title: must not be empty' });
      assert.deepEqual(err.data.fieldErrors, { title: 'must not be empty' });
    });

    it('answers BAD_REQUEST naming the field for a wrong input type', async () => {
      const err = await rejection(client.post.byId.query({ id: 'one' }));
      assertTRPCError(assert, err, { code: 'BAD_REQUEST', httpStatus: 400 });
      assert.deepEqual(Object.keys(err.data.fieldErrors), ['id']);
    });

    it('maps application errors through MapErrorFunc', async () => {
      const err = await rejection(client.post.add.mutate({ title: 'taken' }));
      assertTRPCError(assert, err, { code: 'CONFLICT', httpStatus: 409, rpc: -32009, message: 'Already exists' });
    });

    it('hides unknown errors behind INTERNAL_SERVER_ERROR', async () => {
      const err = await rejection(client.fail.query());
      assertTRPCError(assert, err, { code: 'INTERNAL_SERVER_ERROR', httpStatus: 500, rpc: -32603, message: 'Internal server error' });
      assert.ok(!JSON.stringify(err.shape).includes('hunter2'));
    });

    it('answers NOT_FOUND for an unknown procedure', async () => {
      const err = await rejection(client.nope.query());
      assertTRPCError(assert, err, { code: 'NOT_FOUND', httpStatus: 404, message: 'No procedure found on path "nope"' });
    });

    it('requires auth unless the procedure is public', async () => {
      const err = await rejection(client.auth.whoami.query());
      assertTRPCError(assert, err, { code: 'UNAUTHORIZED', httpStatus: 401, rpc: -32001 });
      const authed = createTRPCClient({
        links: [httpLink({ url: server.url, headers: { authorization: 'Bearer secret' }, ...tx(transformer) })],
      });
      assert.deepEqual(await authed.auth.whoami.query(), { user: 'alice' });
    });

    it('answers PAYLOAD_TOO_LARGE for an oversized body', async () => {
      const err = await rejection(client.post.add.mutate({ title: 'x'.repeat(70 << 10) }));
      assertTRPCError(assert, err, { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413, rpc: -32013 });
    });

    it('takes FormData and Blob uploads through httpLink', async () => {
      const fd = new FormData();
      fd.append('projectId', 'p1');
      fd.append('file', new File([new Uint8Array(1234)], 'photo.png', { type: 'image/png' }));
      assert.deepEqual(await client.upload.mutate(fd), { projectId: 'p1', fileName: 'photo.png', size: 1234 });
      const blob = new Blob([new Uint8Array(10)], { type: 'application/octet-stream' });
      const out = await client.uploadBlob.mutate(blob);
      assert.equal(out.size, 10);
      const big = new FormData();
      big.append('file', new File([new Uint8Array(2 << 20)], 'big.png'));
      const err = await rejection(client.upload.mutate(big));
      assertTRPCError(assert, err, { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 });
    });

    it('round-trips superjson types (Date, bigint, Map, Set, undefined, Infinity)', { skip: transformer !== 'superjson' }, async () => {
      const at = new Date('2024-05-06T07:08:09.010Z');
      const out = await client.types.echo.query({
        at, big: 12345678901234567890n, map: new Map([['a', 1], ['b.c', 2]]), set: new Set(['x', 'y']), maybe: undefined,
      });
      assert.equal(out.at.toISOString(), at.toISOString());
      assert.equal(out.big, 12345678901234567890n);
      assert.deepEqual(out.map, new Map([['a', 1], ['b.c', 2]]));
      assert.deepEqual(out.set, new Set(['x', 'y']));
      assert.deepEqual(out.dates.map((d) => d.toISOString()), [at.toISOString(), '2024-05-06T08:08:09.010Z']);
      assert.ok(out.nested.get('a.b') instanceof Date);
      assert.equal(out.inf, Infinity);
      assert.equal(out.maybeSet, false);
    });

    it('batches with httpBatchLink: one result per call, 207 for mixed statuses', async () => {
      const batch = createTRPCClient({ links: [httpBatchLink({ url: server.url, ...tx(transformer) })] });
      const [a, b, c] = await Promise.allSettled([
        batch.greet.query({ name: 'x' }),
        batch.post.byId.query({ id: 9 }),
        batch.post.byId.query({ id: 'bad' }),
      ]);
      assert.equal(a.value.text, 'hello x');
      assertTRPCError(assert, b.reason, { code: 'NOT_FOUND', httpStatus: 404, message: 'Post 9 not found' });
      assertTRPCError(assert, c.reason, { code: 'BAD_REQUEST', httpStatus: 400 });
      const [m1, m2] = await Promise.allSettled([batch.post.add.mutate({ title: 'ok' }), batch.post.add.mutate({ title: '' })]);
      assert.equal(m1.value.title, 'ok');
      assertTRPCError(assert, m2.reason, { code: 'BAD_REQUEST', httpStatus: 400 });
      assert.deepEqual(m2.reason.data.fieldErrors, { title: 'must not be empty' });

      const input = encodeURIComponent(JSON.stringify(transformer === 'superjson'
        ? { 0: { json: { name: 'x' } }, 1: { json: { id: 9 } } }
        : { 0: { name: 'x' }, 1: { id: 9 } }));
      const res = await fetch(`${server.url}/greet,post.byId?batch=1&input=${input}`);
      assert.equal(res.status, 207);
      const body = await res.json();
      assert.equal(body.length, 2);
      assert.ok('result' in body[0]);
      assert.ok('error' in body[1]);
    });

    it('streams a batch with httpBatchStreamLink, each call as it finishes', async () => {
      const stream = createTRPCClient({ links: [httpBatchStreamLink({ url: server.url, ...tx(transformer) })] });
      const order = [];
      const calls = [
        stream.wait.query({ ms: 150, value: 'slow' }).then((v) => (order.push(v), v)),
        stream.wait.query({ ms: 0, value: 'fast' }).then((v) => (order.push(v), v)),
        stream.post.byId.query({ id: 3 }),
        stream.greet.query({ name: 's' }),
      ];
      const [slow, fast, missing, greet] = await Promise.allSettled(calls);
      assert.equal(slow.value, 'slow');
      assert.equal(fast.value, 'fast');
      assert.deepEqual(order, ['fast', 'slow']);
      assertTRPCError(assert, missing.reason, { code: 'NOT_FOUND', httpStatus: 404, message: 'Post 3 not found' });
      assert.equal(greet.value.text, 'hello s');
      if (transformer === 'superjson') assert.ok(greet.value.at instanceof Date);
    });

    it('routes FormData to httpLink and the rest to httpBatchLink with splitLink', async () => {
      const split = createTRPCClient({
        links: [splitLink({
          condition: (op) => isNonJsonSerializable(op.input),
          true: httpLink({ url: server.url, ...tx(transformer) }),
          false: httpBatchLink({ url: server.url, ...tx(transformer) }),
        })],
      });
      const fd = new FormData();
      fd.append('projectId', 'p2');
      fd.append('file', new File(['abc'], 'a.jpg'));
      const [up, g] = await Promise.all([split.upload.mutate(fd), split.greet.query({ name: 'z' })]);
      assert.equal(up.size, 3);
      assert.equal(g.text, 'hello z');
    });
  });
}
