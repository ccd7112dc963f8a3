// The signed-in user: a bearer token kept in localStorage, and what the app
// reads from its claims (never trusted for access, only for the UI).

import { numberField, stringField } from './json';

const storageKey = 'packshot.token';

/** Session is the signed-in user as the UI needs it. */
export interface Session {
  token: string;
  user: string;
  role: string;
  expiresAt: number | null;
}

/** currentSession returns the stored session, or null when signed out or expired. */
export function currentSession(): Session | null {
  const token = localStorage.getItem(storageKey);
  if (!token) return null;
  const s = parseToken(token);
  if (!s || (s.expiresAt !== null && s.expiresAt * 1000 < Date.now())) {
    localStorage.removeItem(storageKey);
    return null;
  }
  return s;
}

/** parseToken reads a JWT's claims without verifying it; null when it is not a JWT. */
export function parseToken(token: string): Session | null {
  const parts = token.trim().split('.');
  if (parts.length !== 3) return null;
  try {
    const json = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'));
    const claims: unknown = JSON.parse(json);
    const sub = stringField(claims, 'sub');
    if (!sub) return null;
    return {
      token: token.trim(),
      user: sub,
      role: stringField(claims, 'role') ?? 'authenticated',
      expiresAt: numberField(claims, 'exp') ?? null,
    };
  } catch {
    return null;
  }
}

/** saveToken stores a token for later visits. */
export function saveToken(token: string): void {
  localStorage.setItem(storageKey, token.trim());
}

/** signOut forgets the token. */
export function signOut(): void {
  localStorage.removeItem(storageKey);
}

/** devToken asks a dev-mode server for a token; it throws with the server's message. */
export async function devToken(user: string, role?: string): Promise<string> {
  const res = await fetch('/api/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(role ? { user, role } : { user }),
  });
  if (res.status === 404 || res.status === 405) {
    throw new DevModeOffError();
  }
  const body: unknown = await res.json().catch(() => null);
  const token = stringField(body, 'token');
  if (!res.ok || !token) {
    throw new Error(stringField(body, 'detail') || stringField(body, 'title') || `Sign-in failed (HTTP ${res.status})`);
  }
  return token;
}

/** DevModeOffError says the server does not hand out dev tokens. */
export class DevModeOffError extends Error {
  constructor() {
    super('This server does not issue dev tokens. Paste a token instead.');
  }
}
