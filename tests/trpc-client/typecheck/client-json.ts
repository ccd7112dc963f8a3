// The same AppRouter generated for the plain JSON transformer: links take no
// transformer and times are ISO strings.
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { AppRouter } from './router-json.gen';

const client = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: 'http://localhost:8080/trpc' })],
});

export async function plainJSON(): Promise<void> {
  const g = await client.greet.query({ name: 'ada' });
  const at: string = g.at;
  const types = await client.types.echo.query({ at: '2024-01-01T00:00:00.000Z', big: 1, map: { a: 1 }, set: ['x'] });
  const map: Record<string, number> = types.map;
  const set: string[] = types.set;
  console.log(at, map, set);
}
