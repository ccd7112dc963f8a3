// Pieces several screens draw: status badges and progress bars.

import { h } from '../dom';

const statusLabels: Record<string, string> = {
  draft: 'Draft',
  ready: 'Ready',
  generating: 'Generating',
  completed: 'Completed',
  partial: 'Partly done',
  failed: 'Failed',
  pending: 'Queued',
  processing: 'Working',
  cancelled: 'Cancelled',
  none: 'Not started',
};

/** statusLabel names a project, image or job status for people. */
export function statusLabel(status: string): string {
  return statusLabels[status] ?? status;
}

/** badge draws a status pill. */
export function badge(status: string, extra = ''): HTMLElement {
  return h('span', { class: `badge badge-${status} ${extra}`.trim(), 'data-status': status }, statusLabel(status));
}

/** progressBar draws an accessible progress bar; update it with setProgress. */
export function progressBar(label: string, value: number): HTMLElement {
  const fill = h('span', { class: 'progress-fill' });
  const bar = h('div', { class: 'progress', role: 'progressbar', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': 100 }, fill);
  setProgress(bar, value);
  return bar;
}

/** setProgress moves a bar made by progressBar to value (0–100). */
export function setProgress(bar: HTMLElement, value: number): void {
  const v = Math.max(0, Math.min(100, Math.round(value)));
  bar.setAttribute('aria-valuenow', String(v));
  bar.setAttribute('aria-valuetext', `${v}%`);
  (bar.firstElementChild as HTMLElement).style.width = `${v}%`;
}

/** marketplaceLabel names a marketplace. */
export function marketplaceLabel(m: string): string {
  return ({ amazon: 'Amazon', etsy: 'Etsy', shopify: 'Shopify' } as Record<string, string>)[m] ?? m;
}
