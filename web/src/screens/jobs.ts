// The operators' job monitor (service_role): how many jobs sit in each
// status and how long they take, and the failed jobs with their errors and a
// retry button. It follows admin.onJobsUpdate, which sends the whole view
// again after jobs change; only while no subscription works (the Connection
// polls its feeds then) does it ask admin.jobStats and admin.failedJobs.

import { errorCode, errorMessage, type Job } from '../api';
import { formatSeconds, formatWhen, h, icons, replace, svgIcon } from '../dom';
import type { Screen } from '../app';
import { jobStatuses, type JobStatus, type JobsUpdate as View } from '../generated/router';
import { badge } from './shared';

/** failedLimit is as many failed jobs as an admin.onJobsUpdate event lists. */
const failedLimit = 50;

export const jobsScreen: Screen = (root, app) => {
  app.setTitle('Job monitor');
  const statsEl = h('div', { class: 'stat-grid', 'aria-live': 'off' });
  const failedBody = h('div', { class: 'failed-body' });
  const updated = h('span', { class: 'muted updated', role: 'status' });
  const errorEl = h('div', { class: 'alert alert-error', role: 'alert', hidden: true });
  const retrying = new Set<string>();
  let view: View | null = null;
  let stopped = false;

  function statCard(status: JobStatus, count: number, avg: number | null): HTMLElement {
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
    render();
    try {
      await app.conn.client.job.retry.mutate({ id: jobId });
      // It is pending again; the next update lists it again if it fails again.
      if (view) view = { ...view, failed: view.failed.filter((j) => j.id !== jobId) };
    } catch (err) {
      errorEl.textContent = `Retry failed: ${errorMessage(err)}`;
      errorEl.hidden = false;
    }
    retrying.delete(jobId);
    render();
  }

  function render(): void {
    if (stopped || !view) return;
    const byStatus = new Map(view.stats.map((s) => [s.status, s]));
    replace(statsEl, jobStatuses.map((st) => {
      const s = byStatus.get(st);
      return statCard(st, s?.count ?? 0, s?.avgDurationSeconds ?? null);
    }));
    replace(failedBody, view.failed.length === 0
      ? h('p', { class: 'empty-inline' }, svgIcon(icons.check), 'No failed jobs.')
      : h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
        h('caption', { class: 'visually-hidden' }, 'Failed jobs'),
        h('thead', null, h('tr', null, ['Job', 'Project', 'Attempts', 'Error', 'When', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, view.failed.map(failedRow)),
      )));
  }

  function show(v: View): void {
    if (stopped) return;
    view = v;
    errorEl.hidden = true;
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    render();
  }

  function fail(err: unknown): void {
    if (stopped) return;
    const code = errorCode(err);
    if (code === 'UNAUTHORIZED') return app.signOut();
    errorEl.textContent = code === 'FORBIDDEN' || code === 'NOT_FOUND' ? 'The job monitor is for operators (service_role).' : `Could not load job statistics: ${errorMessage(err)}`;
    errorEl.hidden = false;
  }

  /** load asks for the view once: at the start, and while no subscription works. */
  async function load(): Promise<void> {
    try {
      const [stats, failed] = await Promise.all([
        app.conn.client.admin.jobStats.query(),
        app.conn.client.admin.failedJobs.query({ limit: failedLimit }),
      ]);
      show({ stats: stats.stats, failed });
    } catch (err) {
      fail(err);
    }
  }

  root.append(
    h('section', { class: 'page' },
      h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Job monitor'), h('p', { class: 'muted' }, 'Every job in the queue, updated as jobs change. '), updated)),
      errorEl,
      h('section', { 'aria-labelledby': 'stats-title' }, h('h2', { id: 'stats-title', class: 'h3' }, 'By status'), statsEl),
      h('section', { class: 'card failed-card', 'aria-labelledby': 'failed-title' }, h('h2', { id: 'failed-title', class: 'h3' }, 'Failed jobs'), failedBody),
    ),
  );
  const unwatch = app.conn.watch({
    subscribe: (client, report) => {
      const sub = client.admin.onJobsUpdate.subscribe(undefined, {
        onData: show,
        onConnectionStateChange: report,
        onError: fail,
      });
      return () => sub.unsubscribe();
    },
    poll: load,
  });
  // A live connection sends the view at once; otherwise ask for it now.
  if (app.conn.state !== 'ws' && app.conn.state !== 'sse') void load();
  return () => {
    stopped = true;
    unwatch();
  };
};
