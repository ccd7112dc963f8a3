// The product card on the project page: the title, features and dimensions
// the infographic and dimensions images print, with an inline form to edit
// them (so an image that failed for missing data can be fixed and retried).

import { errorMessage, fieldErrors, type Project } from '../api';
import { h, replace } from '../dom';
import { inputLimits } from '../generated/router';

const maxFeatures = inputLimits.features;

/** DetailsCard shows a project's product data and edits it with save. */
export class DetailsCard {
  readonly el: HTMLElement;
  private readonly view = h('dl', { class: 'details' });
  private readonly editBtn = h('button', { class: 'btn btn-ghost btn-sm', type: 'button', 'aria-expanded': 'false' }, 'Edit');
  private readonly form: HTMLFormElement;
  private readonly title = h('input', { type: 'text', id: 'd-title', name: 'title', maxlength: inputLimits.title, autocomplete: 'off' });
  private readonly dims = h('input', { type: 'text', id: 'd-dimensions', name: 'dimensions', maxlength: inputLimits.dimensions, autocomplete: 'off', placeholder: '12 × 9 × 10 cm' });
  private readonly feats = Array.from({ length: maxFeatures }, (_, i) => h('input', { type: 'text', name: `features.${i}`, maxlength: inputLimits.feature, autocomplete: 'off', 'aria-label': `Feature ${i + 1}` }));
  private readonly error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  private project: Project | null = null;

  constructor(save: (patch: { title: string; features: string[]; dimensions: string }) => Promise<void>) {
    const submit = h('button', { class: 'btn btn-primary btn-sm', type: 'submit' }, 'Save');
    this.form = h('form', { class: 'details-form stack', hidden: true, novalidate: true, 'aria-label': 'Edit product details' },
      h('div', { class: 'field' }, h('label', { for: 'd-title' }, 'Product title'), this.title),
      h('fieldset', { class: 'field' }, h('legend', null, 'Key features'), h('div', { class: 'feature-list' }, this.feats)),
      h('div', { class: 'field' }, h('label', { for: 'd-dimensions' }, 'Dimensions'), this.dims),
      this.error,
      h('div', { class: 'regen-actions' }, h('button', { class: 'btn btn-ghost btn-sm', type: 'button', onclick: () => this.close() }, 'Cancel'), submit),
    );
    this.form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      this.error.hidden = true;
      submit.disabled = true;
      try {
        await save({
          title: this.title.value.trim(),
          features: this.feats.map((f) => f.value.trim()).filter(Boolean),
          dimensions: this.dims.value.trim(),
        });
        this.close();
      } catch (err) {
        const fe = Object.values(fieldErrors(err));
        this.error.textContent = fe.length ? fe.join(' ') : errorMessage(err);
        this.error.hidden = false;
      } finally {
        submit.disabled = false;
      }
    });
    this.form.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') this.close();
    });
    this.editBtn.addEventListener('click', () => this.open());
    this.el = h('section', { class: 'card details-card', 'aria-labelledby': 'details-title' },
      h('div', { class: 'details-head' }, h('h2', { id: 'details-title', class: 'h3' }, 'Product'), this.editBtn),
      this.view,
      this.form,
    );
  }

  private open(): void {
    const p = this.project;
    if (!p) return;
    this.title.value = p.title;
    this.dims.value = p.dimensions;
    this.feats.forEach((f, i) => (f.value = p.features[i] ?? ''));
    this.form.hidden = false;
    this.view.hidden = true;
    this.editBtn.hidden = true;
    this.title.focus();
  }

  private close(): void {
    this.form.hidden = true;
    this.view.hidden = false;
    this.editBtn.hidden = false;
    this.editBtn.focus();
  }

  /** update shows p (the form, if open, keeps what the user typed). */
  update(p: Project): void {
    this.project = p;
    replace(this.view,
      h('dt', null, 'Title'), h('dd', null, p.title || '—'),
      h('dt', null, 'Features'), h('dd', null, p.features.length ? h('ul', null, p.features.map((f) => h('li', null, f))) : '—'),
      h('dt', null, 'Dimensions'), h('dd', null, p.dimensions || '—'),
    );
  }
}
