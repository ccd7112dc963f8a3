// The signed-in user: a bearer token kept in localStorage, and what the app
// reads from its claims (never trusted for access, only for the UI).

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
    const claims = JSON.parse(json) as { sub?: unknown; role?: unknown; exp?: unknown };
    if (typeof claims.sub !== 'string' || claims.sub === '') return null;
    return {
      token: token.trim(),
      user: claims.sub,
      role: typeof claims.role === 'string' ? claims.role : 'authenticated',
      expiresAt: typeof claims.exp === 'number' ? claims.exp : null,
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
  const body = (await res.json().catch(() => null)) as { token?: string; detail?: string; title?: string } | null;
  if (!res.ok || !body?.token) {
    throw new Error(body?.detail || body?.title || `Sign-in failed (HTTP ${res.status})`);
  }
  return body.token;
}

/** DevModeOffError says the server does not hand out dev tokens. */
export class DevModeOffError extends Error {
  constructor() {
    super('This server does not issue dev tokens. Paste a token instead.');
  }
}
