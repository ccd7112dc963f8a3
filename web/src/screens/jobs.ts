// The operators' job monitor (service_role): how many jobs sit in each
// status and how long they take, and the failed jobs with their errors and a
// retry button. It refreshes every two seconds (the queue has no per-user
// subscription to follow).

import { errorCode, errorMessage, type Job } from '../api';
import { formatSeconds, formatWhen, h, icons, replace, svgIcon } from '../dom';
import type { Screen } from '../app';
import { badge } from './shared';

const refreshMs = 2000;
const statuses = ['pending', 'processing', 'completed', 'failed', 'cancelled'];

export const jobsScreen: Screen = (root, app) => {
  app.setTitle('Job monitor');
  const statsEl = h('div', { class: 'stat-grid', 'aria-live': 'off' });
  const failedBody = h('div', { class: 'failed-body' });
  const updated = h('span', { class: 'muted updated', role: 'status' });
  const errorEl = h('div', { class: 'alert alert-error', role: 'alert', hidden: true });
  const retrying = new Set<string>();
  let timer: number | undefined;
  let stopped = false;

  function statCard(status: string, count: number, avg: number | null): HTMLElement {
    return h('div', { class: `stat card stat-${status}`, 'data-status': status },
      h('span', { class: 'stat-label' }, badge(status)),
      h('span', { class: 'stat-value' }, count.toLocaleString()),
      h('span', { class: 'stat-sub' }, avg === null ? 'no timings yet' : `avg ${formatSeconds(avg)}`),
    );
  }

  function failedRow(j: Job): HTMLElement {
    const busy = retrying.has(j.id);
    return h('tr', { 'data-id': j.id },
      h('td', null, h('code', null, j.kind), h('div', { class: 'muted small' }, j.id.slice(0, 8))),
      h('td', null, j.projectId ? h('a', { href: `/projects/${encodeURIComponent(j.projectId)}` }, j.projectId.slice(0, 8)) : '—'),
      h('td', { class: 'num' }, `${j.attempts}/${j.maxAttempts}`),
      h('td', { class: 'err-cell' }, j.lastError ?? '—'),
      h('td', { class: 'muted small' }, j.completedAt ? formatWhen(j.completedAt) : formatWhen(j.createdAt)),
      h('td', null, h('button', { class: 'btn btn-secondary btn-sm', type: 'button', disabled: busy, 'aria-label': `Retry job ${j.kind} ${j.id.slice(0, 8)}`, onclick: () => void retry(j.id) }, svgIcon(icons.retry), busy ? 'Retrying…' : 'Retry')),
    );
  }

  async function retry(jobId: string): Promise<void> {
    retrying.add(jobId);
    await load();
    try {
      await app.conn.client.job.retry.mutate({ id: jobId });
    } catch (err) {
      errorEl.textContent = `Retry failed: ${errorMessage(err)}`;
      errorEl.hidden = false;
    }
    retrying.delete(jobId);
    await load();
  }

  async function load(): Promise<void> {
    try {
      const [stats, failed] = await Promise.all([
        app.conn.client.admin.jobStats.query(),
        app.conn.client.admin.failedJobs.query({ limit: 50 }),
      ]);
      if (stopped) return;
      errorEl.hidden = true;
      const byStatus = new Map(stats.stats.map((s) => [s.status, s]));
      replace(statsEl, statuses.map((st) => {
        const s = byStatus.get(st);
        return statCard(st, s?.count ?? 0, s?.avgDurationSeconds ?? null);
      }));
      replace(failedBody, failed.length === 0
        ? h('p', { class: 'empty-inline' }, svgIcon(icons.check), 'No failed jobs.')
        : h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
          h('caption', { class: 'visually-hidden' }, 'Failed jobs'),
          h('thead', null, h('tr', null, ['Job', 'Project', 'Attempts', 'Error', 'When', ''].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', null, failed.map(failedRow)),
        )));
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      if (stopped) return;
      const code = errorCode(err);
      if (code === 'UNAUTHORIZED') return app.signOut();
      errorEl.textContent = code === 'FORBIDDEN' || code === 'NOT_FOUND' ? 'The job monitor is for operators (service_role).' : `Could not load job statistics: ${errorMessage(err)}`;
      errorEl.hidden = false;
    }
  }

  const tick = async () => {
    await load();
    if (!stopped) timer = window.setTimeout(tick, refreshMs);
  };

  root.append(
    h('section', { class: 'page' },
      h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Job monitor'), h('p', { class: 'muted' }, 'Every job in the queue, refreshed every few seconds. '), updated)),
      errorEl,
      h('section', { 'aria-labelledby': 'stats-title' }, h('h2', { id: 'stats-title', class: 'h3' }, 'By status'), statsEl),
      h('section', { class: 'card failed-card', 'aria-labelledby': 'failed-title' }, h('h2', { id: 'failed-title', class: 'h3' }, 'Failed jobs'), failedBody),
    ),
  );
  void tick();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
};
