// The projects list: newest first, each with a live status badge and
// progress, kept current by project.onListUpdate.

import { errorCode, errorMessage, type Summary } from '../api';
import { formatWhen, h, icons, replace, svgIcon } from '../dom';
import type { Screen } from '../app';
import { badge, marketplaceLabel, progressBar } from './shared';

const pageSize = 30;

export const projectsScreen: Screen = (root, app) => {
  app.setTitle('Projects');
  const byId = new Map<string, Summary>();
  let nextCursor: string | null = null;
  let loaded = false;
  let failure: string | null = null;

  const list = h('ul', { class: 'project-list', 'aria-label': 'Projects' });
  const more = h('button', { class: 'btn btn-secondary', type: 'button', hidden: true }, 'Show older projects');
  const body = h('div', { class: 'projects-body', 'aria-busy': 'true' });

  const sorted = () => [...byId.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());

  function row(p: Summary): HTMLElement {
    const thumb = p.thumbnailUrl
      ? h('img', { class: 'thumb', src: p.thumbnailUrl, alt: '', loading: 'lazy', width: 56, height: 56 })
      : h('span', { class: 'thumb thumb-empty', 'aria-hidden': 'true' }, svgIcon(icons.sparkle));
    const generating = p.status === 'generating';
    return h('li', { class: 'project-row', 'data-id': p.id, 'data-status': p.status },
      h('a', { href: `/projects/${encodeURIComponent(p.id)}`, class: 'project-link' },
        thumb,
        h('span', { class: 'project-main' },
          h('span', { class: 'project-name' }, p.name),
          h('span', { class: 'project-meta' }, `${marketplaceLabel(p.marketplace)} · created ${formatWhen(p.createdAt)}`),
        ),
        h('span', { class: 'project-state' },
          badge(p.status),
          generating ? progressBar(`${p.name} progress`, p.progress) : null,
          generating ? h('span', { class: 'pct' }, `${Math.round(p.progress)}%`) : null,
        ),
      ),
    );
  }

  function render(): void {
    body.setAttribute('aria-busy', loaded ? 'false' : 'true');
    if (failure) {
      replace(body, h('p', { class: 'alert alert-error', role: 'alert' }, failure));
      return;
    }
    if (!loaded) {
      replace(body, h('div', { class: 'skeleton-list', 'aria-label': 'Loading projects' }, h('div', { class: 'skeleton' }), h('div', { class: 'skeleton' }), h('div', { class: 'skeleton' })));
      return;
    }
    if (byId.size === 0) {
      replace(body, h('div', { class: 'empty card' },
        h('span', { class: 'empty-icon', 'aria-hidden': 'true' }, svgIcon(icons.sparkle)),
        h('h2', null, 'No projects yet'),
        h('p', { class: 'muted' }, 'Create a project, add one product photo, and packshot makes the whole image pack.'),
        h('a', { class: 'btn btn-primary', href: '/projects/new' }, svgIcon(icons.plus), 'New project'),
      ));
      return;
    }
    replace(list, sorted().map(row));
    more.hidden = nextCursor === null;
    replace(body, list, more);
  }

  async function load(cursor: string | null): Promise<void> {
    try {
      const page = await app.conn.client.project.list.query({ limit: pageSize, ...(cursor ? { cursor } : {}) });
      if (!cursor) {
        // A fresh first page: keep older pages already shown, refresh the rest.
        for (const p of page.items) byId.set(p.id, p);
        if (!loaded) nextCursor = page.nextCursor;
      } else {
        for (const p of page.items) byId.set(p.id, p);
        nextCursor = page.nextCursor;
      }
      loaded = true;
      failure = null;
    } catch (err) {
      if (errorCode(err) === 'UNAUTHORIZED') return app.signOut();
      failure = `Could not load your projects: ${errorMessage(err)}`;
    }
    render();
  }

  more.addEventListener('click', () => void load(nextCursor));

  const unwatch = app.conn.watch({
    subscribe: (client, report) => {
      const sub = client.project.onListUpdate.subscribe(undefined, {
        // An untracked subscription: each event is the summary itself.
        onData: (p) => {
          const old = byId.get(p.id);
          if (old && old.version > p.version) return;
          byId.set(p.id, p);
          if (loaded) render();
        },
        onConnectionStateChange: report,
        onError: (err) => {
          if (errorCode(err) === 'UNAUTHORIZED') app.signOut();
        },
      });
      return () => sub.unsubscribe();
    },
    poll: () => load(null),
  });

  root.append(
    h('section', { class: 'page' },
      h('div', { class: 'page-head' },
        h('div', null, h('h1', null, 'Projects'), h('p', { class: 'muted' }, 'Newest first. Statuses update live.')),
        h('a', { class: 'btn btn-primary', href: '/projects/new' }, svgIcon(icons.plus), 'New project'),
      ),
      body,
    ),
  );
  render();
  void load(null);
  return unwatch;
};
