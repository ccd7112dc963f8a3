// Guards for JSON of unknown shape (a fetch body, a token's claims): the app
// reads the fields it needs and checks their types instead of asserting them.

/** isRecord reports whether v is a JSON object. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** stringField returns v[key] when v is an object and that field is a string. */
export function stringField(v: unknown, key: string): string | undefined {
  if (!isRecord(v)) return undefined;
  const f = v[key];
  return typeof f === 'string' ? f : undefined;
}

/** numberField returns v[key] when v is an object and that field is a number. */
export function numberField(v: unknown, key: string): number | undefined {
  if (!isRecord(v)) return undefined;
  const f = v[key];
  return typeof f === 'number' ? f : undefined;
}
