// One card on the project page: an image type's live progress, the finished
// image with its compliance verdict, and the retry / regenerate actions.

import { errorMessage, sentence, type Slot } from '../api';
import { announce, formatBytes, formatUsd, h, icons, newKey, replace, svgIcon } from '../dom';
import { inputLimits, type ImageType, type ImageTypeInfo, type Marketplace } from '../generated/router';
import { badge, marketplaceLabel, progressBar, setProgress, typeInfo } from './shared';

/** SlotActions are the calls a card makes; the page supplies them. */
export interface SlotActions {
  retry(jobId: string): Promise<void>;
  regenerate(type: ImageType, prompt: string, idempotencyKey: string): Promise<void>;
}

/** SlotCard is a card that updates in place as snapshots arrive. */
export class SlotCard {
  readonly el: HTMLElement;
  private readonly type: ImageType;
  private readonly info: ImageTypeInfo;
  private readonly actions: SlotActions;
  private readonly statusEl = h('span', { class: 'slot-badge' });
  private readonly media = h('div', { class: 'slot-media' });
  private readonly progressWrap = h('div', { class: 'slot-progress' });
  private readonly bar: HTMLElement;
  private readonly stage = h('span', { class: 'slot-stage' });
  private readonly pct = h('span', { class: 'slot-pct' });
  private readonly errorEl = h('p', { class: 'slot-error', role: 'alert', hidden: true });
  private readonly hintEl = h('p', { class: 'slot-hint', hidden: true });
  private readonly compliance = h('div', { class: 'compliance' });
  private readonly meta = h('p', { class: 'slot-meta' });
  private readonly buttons = h('div', { class: 'slot-actions' });
  private readonly regenForm: HTMLFormElement;
  private readonly prompt: HTMLTextAreaElement;
  private readonly actionError = h('p', { class: 'field-error', role: 'alert', hidden: true });
  private shownImageId: string | null = null;
  private busy = false;
  private last: Slot | null = null;
  private marketplace: Marketplace = 'amazon';
  private canGenerate = false;

  constructor(type: ImageType, actions: SlotActions) {
    this.type = type;
    this.actions = actions;
    const info = typeInfo(type);
    this.info = info;
    const titleId = `slot-${type}-title`;
    this.bar = progressBar(`${info.title} progress`, 0);
    this.progressWrap.append(this.bar, h('div', { class: 'slot-progress-text' }, this.stage, this.pct));
    this.prompt = h('textarea', { id: `prompt-${type}`, rows: 3, maxlength: inputLimits.prompt, placeholder: 'e.g. on a marble kitchen counter, morning light' });
    const submit = h('button', { class: 'btn btn-primary btn-sm', type: 'submit' }, 'Generate');
    this.regenForm = h('form', { class: 'regen', hidden: true },
      h('label', { for: this.prompt.id }, type === 'custom' ? 'Describe the image you want' : `Custom prompt for the ${info.title.toLowerCase()}`),
      this.prompt,
      h('div', { class: 'regen-actions' },
        h('button', { class: 'btn btn-ghost btn-sm', type: 'button', onclick: () => this.closeRegen() }, 'Cancel'),
        submit,
      ),
    );
    this.regenForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const text = this.prompt.value.trim();
      if (this.type === 'custom' && !text) {
        this.actionError.textContent = 'Describe the image you want first.';
        this.actionError.hidden = false;
        this.prompt.focus();
        return;
      }
      submit.disabled = true;
      await this.run(() => this.actions.regenerate(this.type, text, newKey()));
      submit.disabled = false;
      if (this.actionError.hidden) this.closeRegen();
    });
    this.regenForm.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') this.closeRegen();
    });
    this.el = h('article', { class: 'slot card', 'data-type': type, 'aria-labelledby': titleId },
      h('header', { class: 'slot-head' },
        h('div', null, h('h3', { id: titleId }, info.title), h('p', { class: 'slot-about' }, info.about)),
        this.statusEl,
      ),
      this.media,
      this.progressWrap,
      this.errorEl,
      this.hintEl,
      this.compliance,
      this.meta,
      this.buttons,
      this.actionError,
      this.regenForm,
    );
  }

  private closeRegen(): void {
    this.regenForm.hidden = true;
    this.renderButtons();
    this.buttons.querySelector<HTMLElement>('.btn-regen')?.focus();
  }

  private async run(fn: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.actionError.hidden = true;
    this.renderButtons();
    try {
      await fn();
    } catch (err) {
      this.actionError.textContent = errorMessage(err);
      this.actionError.hidden = false;
    } finally {
      this.busy = false;
      this.renderButtons();
    }
  }

  /**
   * update shows slot; canGenerate says whether the project has a usable
   * photo, and hint (if any) what the image still needs from the user.
   */
  update(slot: Slot, marketplace: Marketplace, canGenerate: boolean, hint = ''): void {
    const prev = this.last;
    this.last = slot;
    this.marketplace = marketplace;
    this.canGenerate = canGenerate;
    this.el.dataset.status = slot.status;
    if (prev?.status !== slot.status) {
      replace(this.statusEl, badge(slot.status));
      if (prev && slot.status === 'failed') announce(`${this.info.title} failed`);
    }

    const working = slot.status === 'pending' || slot.status === 'processing';
    this.progressWrap.hidden = !working;
    setProgress(this.bar, slot.progress);
    this.stage.textContent = slot.stage ? slot.stage.charAt(0).toUpperCase() + slot.stage.slice(1) : slot.status === 'pending' ? 'Waiting for a worker…' : 'Working…';
    this.pct.textContent = `${Math.round(slot.progress)}%`;

    this.errorEl.hidden = !(slot.status === 'failed' && slot.error);
    this.errorEl.textContent = sentence(slot.error ?? '');
    this.hintEl.textContent = hint;
    this.hintEl.hidden = !hint || working || slot.status === 'completed';

    const img = slot.image;
    if ((img?.id ?? null) !== this.shownImageId || (!img && prev?.status !== slot.status)) {
      this.shownImageId = img?.id ?? null;
      if (img) {
        replace(this.media,
          h('a', { href: img.url, target: '_blank', rel: 'noopener', class: 'slot-img-link', 'aria-label': `Open the ${this.info.title} full size` },
            h('img', { src: img.url, alt: `${this.info.title} generated for this product`, width: img.width, height: img.height })),
        );
      } else {
        replace(this.media, h('div', { class: 'slot-placeholder', 'aria-hidden': 'true' }, svgIcon(icons.sparkle)));
      }
    }
    this.media.classList.toggle('is-working', working);

    if (img) {
      const c = img.compliance;
      const market = marketplaceLabel(this.marketplace);
      const blocking = c.violations.filter((v) => v.severity !== 'warning');
      const notes = c.violations.filter((v) => v.severity === 'warning');
      const list = (vs: typeof c.violations) => h('ul', null, vs.map((v) => h('li', { 'data-code': v.code, 'data-severity': v.severity ?? 'error' }, v.message)));
      replace(this.compliance,
        c.ok
          ? h('p', { class: 'compliance-ok' }, svgIcon(icons.check), `Meets ${market} rules`)
          : h('div', { class: 'compliance-bad' },
            h('p', null, svgIcon(icons.warn), this.type === 'main' ? `${market} would reject this main image:` : `Does not meet ${market} rules:`),
            list(blocking.length ? blocking : c.violations),
          ),
        c.ok && notes.length ? h('div', { class: 'compliance-notes' }, h('p', null, 'Worth a look:'), list(notes)) : null,
        !c.ok && blocking.length && notes.length ? h('div', { class: 'compliance-notes' }, h('p', null, 'Also:'), list(notes)) : null,
      );
      this.meta.textContent = `${img.width}×${img.height} px · ${formatBytes(img.bytes)} · ${formatUsd(img.costUsd)} · ${img.provider}`;
    } else {
      this.compliance.textContent = '';
      this.meta.textContent = '';
    }
    this.renderButtons();
  }

  private renderButtons(): void {
    const slot = this.last;
    if (!slot) return;
    const working = slot.status === 'pending' || slot.status === 'processing';
    const btns: HTMLElement[] = [];
    if (slot.status === 'failed' && slot.jobId) {
      const jobId = slot.jobId;
      btns.push(h('button', { class: 'btn btn-secondary btn-sm', type: 'button', disabled: this.busy, onclick: () => void this.run(() => this.actions.retry(jobId)) }, svgIcon(icons.retry), 'Retry'));
    }
    if (!working && this.canGenerate && this.regenForm.hidden) {
      const label = slot.status === 'none' ? 'Generate…' : 'Regenerate…';
      btns.push(h('button', { class: 'btn btn-secondary btn-sm btn-regen', type: 'button', disabled: this.busy, 'aria-expanded': 'false', onclick: () => {
        this.regenForm.hidden = false;
        this.renderButtons();
        this.prompt.focus();
      } }, label));
    }
    if (working && !this.regenForm.hidden) this.regenForm.hidden = true;
    replace(this.buttons, btns);
  }
}
