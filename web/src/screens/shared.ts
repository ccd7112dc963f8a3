// Pieces several screens draw: status badges and progress bars, and the
// names people read for the server's statuses, marketplaces and image types.

import { h } from '../dom';
import { imageTypeInfo, type ImageType, type ImageTypeInfo, type Marketplace, type ProjectStatus, type SlotStatus } from '../generated/router';

/** Status is any status a badge shows: a project's, an image slot's or a job's. */
export type Status = ProjectStatus | SlotStatus;

const statusLabels: Record<Status, string> = {
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
export function statusLabel(status: Status): string {
  return statusLabels[status] ?? status;
}

/** badge draws a status pill. */
export function badge(status: Status, extra = ''): HTMLElement {
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
  const fill = bar.firstElementChild;
  if (fill instanceof HTMLElement) fill.style.width = `${v}%`;
}

const marketplaceLabels: Record<Marketplace, string> = { amazon: 'Amazon', etsy: 'Etsy', shopify: 'Shopify' };

/** marketplaceLabel names a marketplace. */
export function marketplaceLabel(m: Marketplace): string {
  return marketplaceLabels[m] ?? m;
}

/** typeInfo names and explains an image type, as the server describes it. */
export function typeInfo(type: ImageType): ImageTypeInfo {
  return imageTypeInfo.find((i) => i.type === type) ?? { type, title: type, about: '' };
}
