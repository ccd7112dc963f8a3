// Calls every procedure of the test router through the generated AppRouter;
// it must compile under --strict.
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  httpBatchStreamLink,
  httpLink,
  httpSubscriptionLink,
  isNonJsonSerializable,
  splitLink,
  TRPCClientError,
  wsLink,
} from '@trpc/client';
import superjson from 'superjson';
import type { AppRouter, AppStreamRouter, Count, Tick, Post, RefsInput, TypesOutput, Uploaded, WhoAmI, ZodFlattenedError } from './router.gen';

const url = 'http://localhost:8080/trpc';
const client = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: httpSubscriptionLink({ url, transformer: superjson }),
      false: splitLink({
        condition: (op) => isNonJsonSerializable(op.input),
        true: httpLink({ url, transformer: superjson }),
        false: httpBatchLink({ url, transformer: superjson }),
      }),
    }),
  ],
});
const ws = createTRPCClient<AppRouter>({
  links: [wsLink({ client: createWSClient({ url: 'ws://localhost:8080/ws' }), transformer: superjson })],
});

export async function everyProcedure(): Promise<void> {
  const g = await client.greet.query({ name: 'ada' });
  const text: string = g.text;
  const at: Date = g.at;
  const post: Post = await client.post.byId.query({ id: 1 });
  const note: string | null = post.note;
  const added: Post = await ws.post.add.mutate({ title: 't' });
  await client.post.add.mutate({ title: 't', tags: ['a'] });
  const types: TypesOutput = await client.types.echo.query({
    at: new Date(),
    big: 1n,
    map: new Map([['a', 1]]),
    set: new Set(['x']),
  });
  const big: bigint | null = types.big;
  const nested: Map<string, Date> = types.nested;
  await client.fail.query();
  const nothing: void = await client.nothing.mutate();
  const waited: string = await client.wait.query({ ms: 1, value: 'v' });
  const who: WhoAmI = await ws.auth.whoami.query();
  const fd = new FormData();
  fd.append('projectId', 'p');
  const up: Uploaded = await client.upload.mutate(fd);
  const blob: Uploaded = await client.uploadBlob.mutate(new Blob(['x']));
  await client.limited.query();
  const stamp = { at: new Date(), tags: new Set(['a']) };
  const refs: RefsInput = await client.refs.echo.mutate({ first: stamp, second: stamp, list: [stamp] });
  const tags: Set<string> = refs.first.tags;
  console.log(tags);
  client.counter.subscribe({ to: 3 }, {
    onData(ev) {
      const id: string = ev.id;
      const count: Count = ev.data;
      console.log(id, count.n);
    },
  });
  ws.auth.events.subscribe(undefined, {
    onData(ev) {
      const user: string = ev.data.user;
      console.log(user);
    },
    onError(err) {
      const fields: Record<string, string> | undefined = err.data?.fieldErrors;
      console.log(err.data?.code, err.data?.httpStatus, fields);
    },
  });
  console.log(text, at, note, added, big, nested, nothing, waited, who, up, blob);
}

// A streaming query: an async iterable over httpBatchStreamLink, a
// subscription (AppStreamRouter) over wsLink and httpSubscriptionLink.
export async function streaming(): Promise<void> {
  const stream = createTRPCClient<AppRouter>({ links: [httpBatchStreamLink({ url, transformer: superjson })] });
  for await (const tick of await stream.ticks.query({ to: 3 })) {
    const n: number = tick.n;
    const at: Date = tick.at;
    console.log(n, at);
  }
  const subs = createTRPCClient<AppStreamRouter>({
    links: [wsLink({ client: createWSClient({ url: 'ws://localhost:8080/ws' }), transformer: superjson })],
  });
  subs.ticks.subscribe({ to: 3 }, {
    onData(tick) {
      const at: Date = tick.at;
      console.log(tick.n, at);
    },
  });
}

// Reads every field of the error shape the server sends (errors.go's
// errorShape), as application code does: a missing declaration fails here.
export function everyErrorField(err: unknown): void {
  if (!(err instanceof TRPCClientError)) return;
  const e = err as TRPCClientError<AppRouter>;
  const message: string = e.message;
  const rpcCode: number | undefined = e.shape?.code;
  const shapeMessage: string | undefined = e.shape?.message;
  const code: string | undefined = e.data?.code;
  const httpStatus: number | undefined = e.data?.httpStatus;
  const path: string | undefined = e.data?.path;
  // create-t3-app's errorFormatter: zod's flatten() or null.
  const zod: ZodFlattenedError | null | undefined = e.data?.zodError;
  const formErrors: string[] | undefined = e.data?.zodError?.formErrors;
  const titleErrors: string[] | undefined = e.data?.zodError?.fieldErrors.title;
  const fields: Record<string, string> | undefined = e.data?.fieldErrors;
  const retryAfterSeconds: number | undefined = e.data?.retryAfterSeconds;
  console.log(message, rpcCode, shapeMessage, code, httpStatus, path, zod, formErrors, titleErrors, fields, retryAfterSeconds);
}
