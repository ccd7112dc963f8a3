// The project page: the product photo (drag-and-drop or pick, with the
// server's verdict), "Generate complete pack", one live card per image type,
// the running cost and the pack download. Kept current by project.onUpdate.

import { errorCode, errorMessage, resumeInput, type Project, type Slot } from '../api';
import { announce, formatBytes, formatUsd, h, icons, newKey, replace, svgIcon } from '../dom';
import type { Screen } from '../app';
import { imageTypes, type ImageType, type ImageTypeInfo } from '../generated/router';
import { notFoundPanel } from './notfound';
import { badge, marketplaceLabel, progressBar, setProgress, typeInfo } from './shared';
import { DetailsCard } from './details';
import { SlotCard } from './slot';

/** needsHint tells the user how to give an image type the product detail it needs. */
const needsHint: Record<NonNullable<ImageTypeInfo['needs']>, string> = {
  features: 'Needs at least one feature: add it under Product, then generate.',
  dimensions: 'Needs the product’s dimensions: add them under Product, then generate.',
};

/** hintFor says what an image type still needs from the product details. */
function hintFor(type: ImageType, p: Project): string {
  const needs = typeInfo(type).needs;
  return needs && p[needs].length === 0 ? needsHint[needs] : '';
}

/**
 * slotsOf is the project's image cards: the snapshot's slots in the server's
 * order (the marketplace's pack, then a custom image once there is one), then
 * an empty slot for every other image type, so that one can be made.
 */
function slotsOf(p: Project): Slot[] {
  const shown = new Set(p.images.map((s) => s.type));
  const empty = (type: ImageType): Slot => ({ type, status: 'none', progress: 0, stage: '', jobId: null, error: null, image: null });
  return [...p.images, ...imageTypes.filter((t) => !shown.has(t)).map(empty)];
}

export const projectScreen: Screen = (root, app, params) => {
  const id = params.id;
  app.setTitle('Project');
  let project: Project | null = null;
  let generating = false;
  let gone = false;

  const title = h('h1', { class: 'project-title' }, 'Loading…');
  const meta = h('div', { class: 'project-meta-line' });
  const generateBtn = h('button', { class: 'btn btn-primary', type: 'button', id: 'generate', disabled: true }, svgIcon(icons.sparkle), 'Generate complete pack');
  const download = h('span', { class: 'download-slot' });
  const pageError = h('div', { class: 'alert alert-error', role: 'alert', hidden: true });

  const packBar = progressBar('Pack progress', 0);
  packBar.id = 'pack-progress';
  const packText = h('span', { class: 'pack-text' });
  const packPct = h('span', { class: 'pack-pct' });
  const cost = h('span', { class: 'cost', id: 'cost' });
  const packPanel = h('section', { class: 'pack-panel card', 'aria-label': 'Pack progress' },
    h('div', { class: 'pack-row' }, h('div', { class: 'pack-label' }, packText, packPct), cost),
    packBar,
  );

  // The photo.
  const fileInput = h('input', { type: 'file', id: 'photo', accept: 'image/jpeg,image/png,image/webp,.jpg,.jpeg,.png,.webp', class: 'visually-hidden', 'aria-describedby': 'photo-help photo-error' });
  const preview = h('div', { class: 'preview' });
  const photoInfo = h('p', { class: 'photo-info' });
  const photoError = h('p', { class: 'field-error upload-error', id: 'photo-error', role: 'alert', hidden: true });
  const dropText = h('span', { class: 'drop-title' }, 'Drop a product photo here');
  const dropzone = h('label', { class: 'dropzone', for: 'photo' },
    fileInput,
    h('span', { class: 'drop-icon', 'aria-hidden': 'true' }, svgIcon(icons.upload)),
    dropText,
    h('span', { class: 'drop-sub' }, 'or ', h('span', { class: 'linkish' }, 'choose a file')),
    h('span', { class: 'help', id: 'photo-help' }, 'JPEG, PNG or WebP; the product on a plain, light background works best.'),
  );
  const sourcePanel = h('section', { class: 'source card', 'aria-labelledby': 'source-title' },
    h('h2', { id: 'source-title', class: 'h3' }, 'Product photo'),
    preview,
    photoInfo,
    dropzone,
    photoError,
  );
  let uploading = false;
  let localPreview: string | null = null;

  const details = new DetailsCard(async (patch) => {
    apply(await app.conn.client.project.update.mutate({ id, ...patch }));
  });
  const cards = new Map<ImageType, SlotCard>();
  const grid = h('div', { class: 'slot-grid' });
  const body = h('div', { class: 'project-body' },
    h('aside', { class: 'project-side' }, sourcePanel, details.el),
    h('section', { class: 'project-images', 'aria-labelledby': 'images-title' }, h('h2', { id: 'images-title', class: 'visually-hidden' }, 'Images'), grid),
  );

  const page = h('section', { class: 'page page-wide' },
    h('div', { class: 'page-head' },
      h('div', { class: 'page-title' }, h('a', { class: 'back', href: '/' }, '← Projects'), title, meta),
      h('div', { class: 'page-actions' }, download, generateBtn),
    ),
    pageError,
    packPanel,
    body,
  );
  root.append(page);

  const actions = {
    retry: async (jobId: string) => {
      await app.conn.client.job.retry.mutate({ id: jobId });
      await refresh();
    },
    regenerate: async (type: ImageType, prompt: string, idempotencyKey: string) => {
      await app.conn.client.image.generate.mutate({ projectId: id, type, idempotencyKey, ...(prompt ? { prompt } : {}) });
      await refresh();
    },
  };

  function showNotFound(): void {
    gone = true;
    app.setTitle('Project not found');
    replace(root, notFoundPanel('Project'));
  }

  function renderPhoto(p: Project): void {
    if (localPreview && uploading) return;
    const src = p.source;
    if (src) {
      replace(preview, h('img', { src: src.url, alt: `Product photo of ${p.name}`, width: src.width, height: src.height }));
      photoInfo.textContent = `${src.width}×${src.height} px · ${formatBytes(src.bytes)} · ${src.mime.replace('image/', '').toUpperCase()}`;
      dropText.textContent = 'Drop a new photo to replace it';
    } else {
      preview.textContent = '';
      photoInfo.textContent = '';
      dropText.textContent = 'Drop a product photo here';
    }
    preview.hidden = !src;
  }

  function render(p: Project): void {
    const prevStatus = project?.status;
    project = p;
    app.setTitle(p.name);
    title.textContent = p.name;
    page.dataset.status = p.status;
    replace(meta, badge(p.status), h('span', { class: 'chip' }, marketplaceLabel(p.marketplace)), h('span', { class: 'muted' }, `version ${p.version}`));

    const isGenerating = p.status === 'generating';
    generateBtn.disabled = generating || isGenerating || !p.source || uploading;
    generateBtn.title = !p.source ? 'Add a product photo first' : isGenerating ? 'A pack is being generated' : '';
    generateBtn.setAttribute('aria-disabled', String(generateBtn.disabled));

    replace(download, p.packUrl
      ? h('a', { class: 'btn btn-secondary', href: p.packUrl, download: `${p.name.replace(/[^\w.-]+/g, '-')}-pack.zip`, id: 'download' }, svgIcon(icons.download), 'Download pack (.zip)')
      : h('button', { class: 'btn btn-secondary', type: 'button', disabled: true, id: 'download', title: 'Available once images are ready' }, svgIcon(icons.download), 'Download pack (.zip)'));

    const slots = slotsOf(p);
    const done = slots.filter((s) => s.status === 'completed').length;
    const active = slots.filter((s) => s.status !== 'none').length;
    setProgress(packBar, p.progress);
    packPanel.dataset.status = p.status;
    packPct.textContent = `${Math.round(p.progress)}%`;
    packText.textContent = isGenerating
      ? `Generating · ${done} of ${active} images ready`
      : p.status === 'completed' ? `Pack complete · ${done} images`
        : p.status === 'partial' ? `${done} of ${active} images ready; some failed`
          : p.status === 'failed' ? 'Generation failed'
            : p.source ? 'Ready to generate' : 'Add a product photo to start';
    cost.textContent = `Cost so far ${formatUsd(p.costUsd)}`;

    for (const s of slots) {
      let card = cards.get(s.type);
      if (!card) {
        card = new SlotCard(s.type, actions);
        cards.set(s.type, card);
        grid.appendChild(card.el);
      }
      card.update(s, p.marketplace, !!p.source && !isGenerating, hintFor(s.type, p));
    }
    renderPhoto(p);
    details.update(p);
    if (prevStatus === 'generating' && p.status !== 'generating') {
      announce(p.status === 'completed' ? 'Pack complete. All images are ready.' : `Generation finished: ${p.status}.`);
    }
  }

  function apply(p: Project): void {
    if (gone) return;
    if (project && p.version < project.version) return;
    render(p);
  }

  async function refresh(): Promise<void> {
    try {
      apply(await app.conn.client.project.get.query({ id }));
    } catch (err) {
      handleError(err);
    }
  }

  function handleError(err: unknown): void {
    const code = errorCode(err);
    if (code === 'NOT_FOUND') return showNotFound();
    if (code === 'UNAUTHORIZED') return app.signOut();
    pageError.textContent = errorMessage(err);
    pageError.hidden = false;
  }

  generateBtn.addEventListener('click', async () => {
    if (generateBtn.disabled) return;
    generating = true;
    generateBtn.disabled = true;
    pageError.hidden = true;
    const idempotencyKey = newKey();
    try {
      await app.conn.client.image.generateCompletePack.mutate({ projectId: id, idempotencyKey });
      announce('Generating the pack.');
      await refresh();
    } catch (err) {
      handleError(err);
    } finally {
      generating = false;
      if (project) render(project);
    }
  });

  async function upload(file: File): Promise<void> {
    photoError.hidden = true;
    dropzone.removeAttribute('aria-invalid');
    if (localPreview) URL.revokeObjectURL(localPreview);
    localPreview = URL.createObjectURL(file);
    uploading = true;
    sourcePanel.classList.add('is-uploading');
    replace(preview, h('img', { src: localPreview, alt: `Preview of ${file.name}` }), h('span', { class: 'uploading-badge' }, 'Uploading…'));
    preview.hidden = false;
    photoInfo.textContent = `${file.name} · ${formatBytes(file.size)}`;
    if (project) render(project);
    const fd = new FormData();
    fd.append('projectId', id);
    fd.append('file', file, file.name);
    try {
      const p = await app.conn.client.image.upload.mutate(fd);
      uploading = false;
      announce('Photo accepted.');
      apply(p);
    } catch (err) {
      uploading = false;
      const code = errorCode(err);
      if (code === 'NOT_FOUND') return showNotFound();
      if (code === 'UNAUTHORIZED') return app.signOut();
      photoError.textContent = errorMessage(err);
      photoError.hidden = false;
      dropzone.setAttribute('aria-invalid', 'true');
      if (project) render(project);
    } finally {
      sourcePanel.classList.remove('is-uploading');
      if (localPreview) URL.revokeObjectURL(localPreview);
      localPreview = null;
      fileInput.value = '';
    }
  }

  fileInput.addEventListener('change', () => {
    const f = fileInput.files?.[0];
    if (f) void upload(f);
  });
  const dragTarget = sourcePanel;
  dragTarget.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    dropzone.classList.add('is-over');
  });
  dragTarget.addEventListener('dragleave', (ev) => {
    const to = ev.relatedTarget;
    if (!(to instanceof Node && dragTarget.contains(to))) dropzone.classList.remove('is-over');
  });
  dragTarget.addEventListener('drop', (ev) => {
    ev.preventDefault();
    dropzone.classList.remove('is-over');
    const f = ev.dataTransfer?.files?.[0];
    if (f) void upload(f);
  });

  // The id of the last event received: a subscription started on another link
  // (the Connection moving between WebSocket and SSE) resumes after it.
  let lastEventId: string | undefined;
  const unwatch = app.conn.watch({
    subscribe: (client, report) => {
      const sub = client.project.onUpdate.subscribe(resumeInput({ id }, lastEventId), {
        onData: (ev) => {
          lastEventId = ev.id;
          apply(ev.data);
        },
        onConnectionStateChange: report,
        onError: handleError,
      });
      return () => sub.unsubscribe();
    },
    poll: refresh,
  });
  void refresh();
  return unwatch;
};
