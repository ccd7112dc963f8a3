// The screen for an address that names nothing the user may see.

import { h } from '../dom';
import type { Screen } from '../app';

/** notFoundPanel is the "not found" message, also used for projects. */
export function notFoundPanel(what: string): HTMLElement {
  return h('section', { class: 'empty card', 'aria-labelledby': 'nf-title' },
    h('h1', { id: 'nf-title' }, `${what} not found`),
    h('p', { class: 'muted' }, 'It does not exist, or it belongs to someone else.'),
    h('a', { class: 'btn btn-primary', href: '/' }, 'Back to projects'),
  );
}

export const notFoundScreen: Screen = (root, app) => {
  app.setTitle('Not found');
  root.append(notFoundPanel('Page'));
};
