// The shell every screen shares: the header with navigation, the connection
// indicator and the user, plus the tiny history router.

import { currentSession, signOut, type Session } from './auth';
import { Connection, type LinkState } from './live';
import { h, replace } from './dom';

/** Shell is what every screen gets, signed in or not: navigation and the title. */
export interface Shell {
  navigate(path: string): void;
  signOut(): void;
  /** setTitle names the screen in the tab and for screen readers. */
  setTitle(title: string): void;
}

/** App is what a signed-in screen gets: the shell, the connection and the user. */
export interface App extends Shell {
  conn: Connection;
  session: Session;
}

/**
 * Screen renders into root and returns a function that tears it down. A
 * screen shown signed out (sign-in) is a Screen<Shell>.
 */
export type Screen<A extends Shell = App> = (root: HTMLElement, app: A, params: Record<string, string>) => (() => void) | void;

/** Route maps a path pattern such as /projects/:id to a screen. */
export interface Route {
  pattern: string;
  screen: Screen;
  /** role limits a route to one role (the job monitor is for service_role). */
  role?: string;
}

const stateText: Record<LinkState, string> = {
  connecting: 'Connecting…',
  ws: 'Live (WebSocket)',
  sse: 'Live (SSE)',
  polling: 'Polling',
  reconnecting: 'Reconnecting…',
};

const stateHelp: Record<LinkState, string> = {
  connecting: 'Opening a live connection to the server.',
  ws: 'Updates arrive instantly over a WebSocket.',
  sse: 'The WebSocket is unavailable; updates arrive over Server-Sent Events.',
  polling: 'No live connection is possible; the page asks the server every few seconds.',
  reconnecting: 'The live connection dropped; reconnecting. The page keeps updating meanwhile.',
};

function match(pattern: string, path: string): Record<string, string> | null {
  const ps = pattern.split('/').filter(Boolean);
  const xs = path.split('/').filter(Boolean);
  if (ps.length !== xs.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < ps.length; i++) {
    if (ps[i].startsWith(':')) params[ps[i].slice(1)] = decodeURIComponent(xs[i]);
    else if (ps[i] !== xs[i]) return null;
  }
  return params;
}

/** startApp mounts the shell on body and routes the current URL. */
export function startApp(routes: Route[], signIn: Screen<Shell>, notFound: Screen): void {
  const header = document.getElementById('header')!;
  const main = document.getElementById('main')!;
  let conn: Connection | null = null;
  let session: Session | null = null;
  let teardown: (() => void) | void;
  let stopIndicator: (() => void) | null = null;

  const navigate = (path: string) => {
    if (path !== location.pathname + location.search) history.pushState(null, '', path);
    render();
  };

  const doSignOut = () => {
    signOut();
    conn?.stop();
    conn = null;
    session = null;
    navigate('/signin');
  };

  const shell: Shell = {
    navigate,
    signOut: doSignOut,
    setTitle: (t) => {
      document.title = `${t} · packshot`;
    },
  };

  function renderHeader(): void {
    stopIndicator?.();
    stopIndicator = null;
    const nav = h('nav', { class: 'nav', 'aria-label': 'Main' });
    if (session) {
      const links: [string, string][] = [['/', 'Projects'], ['/projects/new', 'New project']];
      if (session.role === 'service_role') links.push(['/jobs', 'Job monitor']);
      for (const [href, label] of links) {
        const current = location.pathname === href ? 'page' : null;
        nav.appendChild(h('a', { href, 'aria-current': current }, label));
      }
    }
    const right = h('div', { class: 'header-right' });
    if (session && conn) {
      const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
      const text = h('span', { class: 'indicator-text' });
      const indicator = h('div', { class: 'indicator', id: 'connection', role: 'status', 'aria-live': 'polite' }, dot, text);
      stopIndicator = conn.onState((s) => {
        indicator.dataset.state = s;
        text.textContent = stateText[s];
        indicator.title = stateHelp[s];
      });
      right.append(
        indicator,
        h('span', { class: 'user', title: session.role }, h('span', { class: 'avatar', 'aria-hidden': 'true' }, session.user.slice(0, 1).toUpperCase()), h('span', { class: 'user-name' }, session.user)),
        h('button', { class: 'btn btn-ghost btn-sm', type: 'button', onclick: doSignOut }, 'Sign out'),
      );
    }
    replace(
      header,
      h('div', { class: 'header-inner' },
        h('a', { class: 'brand', href: session ? '/' : '/signin', 'aria-label': 'packshot home' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), h('span', { class: 'brand-name' }, 'packshot')),
        nav,
        right,
      ),
    );
  }

  function render(): void {
    if (typeof teardown === 'function') teardown();
    teardown = undefined;
    const path = location.pathname;
    const s = currentSession();
    if (!s) {
      conn?.stop();
      conn = null;
      session = null;
      if (path !== '/signin') {
        history.replaceState(null, '', `/signin?next=${encodeURIComponent(path + location.search)}`);
      }
      renderHeader();
      main.textContent = '';
      teardown = signIn(main, shell, {});
      return;
    }
    if (!session || !conn || session.token !== s.token) {
      conn?.stop();
      session = s;
      conn = new Connection(() => session?.token ?? null);
      conn.start();
    }
    const app: App = { ...shell, conn, session };
    if (path === '/signin') {
      history.replaceState(null, '', '/');
      return render();
    }
    renderHeader();
    main.textContent = '';
    for (const r of routes) {
      const params = match(r.pattern, path);
      if (params && (!r.role || r.role === session.role)) {
        teardown = r.screen(main, app, params);
        // Move focus to the new screen unless it focused a field itself.
        if (!main.contains(document.activeElement)) main.focus({ preventScroll: true });
        window.scrollTo(0, 0);
        return;
      }
    }
    teardown = notFound(main, app, {});
  }

  document.addEventListener('click', (ev) => {
    const a = ev.target instanceof Element ? ev.target.closest('a') : null;
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const href = a.getAttribute('href');
    if (!href || !href.startsWith('/') || href.startsWith('//') || a.hasAttribute('download') || a.target) return;
    if (/^\/(files|api|trpc)\//.test(href)) return;
    ev.preventDefault();
    navigate(href);
  });
  window.addEventListener('popstate', render);
  render();
}
