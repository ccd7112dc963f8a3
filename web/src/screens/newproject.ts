// The new project form: name, marketplace, product title, up to five
// features and the dimensions. The server validates; its field messages are
// shown next to the fields they name.

import { errorCode, errorMessage, fieldErrors } from '../api';
import { h } from '../dom';
import type { Screen } from '../app';
import { inputLimits, marketplaces, type Marketplace } from '../generated/router';
import { marketplaceLabel } from './shared';

const maxFeatures = inputLimits.features;

/** marketplaceOf returns the marketplace named v, if it is one. */
function marketplaceOf(v: string): Marketplace | undefined {
  return marketplaces.find((m) => m === v);
}

export const newProjectScreen: Screen = (root, app) => {
  app.setTitle('New project');
  const errors = new Map<string, HTMLElement>();

  function field(name: string, label: string, control: HTMLElement, help?: string): HTMLElement {
    control.id = `f-${name}`;
    control.setAttribute('name', name);
    const err = h('p', { class: 'field-error', id: `f-${name}-error`, hidden: true });
    errors.set(name, err);
    const helpEl = help ? h('p', { class: 'help', id: `f-${name}-help` }, help) : null;
    control.setAttribute('aria-describedby', [helpEl ? helpEl.id : '', err.id].filter(Boolean).join(' '));
    return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, helpEl, err);
  }

  const name = h('input', { type: 'text', required: true, maxlength: inputLimits.name, autocomplete: 'off', placeholder: 'Ceramic mug — spring catalogue' });
  // The server's first marketplace is its default, so it comes first.
  const marketplace = h('select', null, marketplaces.map((m) => h('option', { value: m }, marketplaceLabel(m))));
  const title = h('input', { type: 'text', maxlength: inputLimits.title, autocomplete: 'off', placeholder: 'Handmade ceramic coffee mug, 350 ml' });
  const dimensions = h('input', { type: 'text', maxlength: inputLimits.dimensions, autocomplete: 'off', placeholder: '12 × 9 × 10 cm' });
  const features = Array.from({ length: maxFeatures }, (_, i) =>
    h('input', { type: 'text', maxlength: inputLimits.feature, autocomplete: 'off', id: `f-feature-${i}`, name: `features.${i}`, 'aria-label': `Feature ${i + 1}`, placeholder: i === 0 ? 'Dishwasher safe' : '' }),
  );
  const featureErr = h('p', { class: 'field-error', id: 'f-features-error', hidden: true });
  errors.set('features', featureErr);
  const featureErrs = features.map((f, i) => {
    const err = h('p', { class: 'field-error', id: `f-features.${i}-error`, hidden: true });
    errors.set(`features.${i}`, err);
    f.setAttribute('aria-describedby', `f-features-help ${err.id} f-features-error`);
    return err;
  });

  const formError = h('div', { class: 'alert alert-error', role: 'alert', hidden: true });
  const submit = h('button', { class: 'btn btn-primary', type: 'submit' }, 'Create project');

  const form = h('form', { class: 'card form', novalidate: true, 'aria-labelledby': 'np-title' },
    formError,
    field('name', 'Project name', name),
    field('marketplace', 'Marketplace', marketplace, 'Sets the rules the images are checked against (sizes, white background).'),
    field('title', 'Product title', title, 'Used on the infographic.'),
    h('fieldset', { class: 'field' },
      h('legend', null, 'Key features ', h('span', { class: 'muted' }, `(up to ${maxFeatures})`)),
      h('p', { class: 'help', id: 'f-features-help' }, 'Short phrases; they become the infographic’s callouts.'),
      h('div', { class: 'feature-list' }, features.map((f, i) => h('div', { class: 'feature-row' }, h('span', { class: 'feature-num', 'aria-hidden': 'true' }, String(i + 1)), h('div', { class: 'feature-input' }, f, featureErrs[i])))),
      featureErr,
    ),
    field('dimensions', 'Dimensions', dimensions, 'Printed on the dimensions image, e.g. "12 × 9 × 10 cm".'),
    h('div', { class: 'form-actions' }, h('a', { class: 'btn btn-ghost', href: '/' }, 'Cancel'), submit),
  );

  function clearErrors(): void {
    formError.hidden = true;
    for (const [, el] of errors) el.hidden = true;
    form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
  }

  function showFieldErrors(fe: Record<string, string>, fallback: string): void {
    let first: HTMLElement | null = null;
    const unmatched: string[] = [];
    for (const [key, msg] of Object.entries(fe)) {
      const k = key.replace(/\[(\d+)\]/g, '.$1');
      const el = errors.get(k);
      if (!el) {
        unmatched.push(msg);
        continue;
      }
      el.textContent = msg;
      el.hidden = false;
      const control = form.querySelector<HTMLElement>(`[name="${k}"]`) ?? (k === 'features' ? features[0] : null);
      control?.setAttribute('aria-invalid', 'true');
      first ??= control;
    }
    if (unmatched.length || !first) {
      formError.textContent = unmatched.length ? unmatched.join(' ') : fallback;
      formError.hidden = false;
    }
    (first ?? formError).focus();
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors();
    if (!name.value.trim()) {
      showFieldErrors({ name: 'Give the project a name.' }, '');
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Creating…';
    try {
      const feats = features.map((f) => f.value.trim()).filter(Boolean);
      const p = await app.conn.client.project.create.mutate({
        name: name.value.trim(),
        marketplace: marketplaceOf(marketplace.value),
        title: title.value.trim(),
        features: feats,
        dimensions: dimensions.value.trim(),
      });
      app.navigate(`/projects/${encodeURIComponent(p.id)}`);
    } catch (err) {
      submit.disabled = false;
      submit.textContent = 'Create project';
      if (errorCode(err) === 'UNAUTHORIZED') return app.signOut();
      formError.tabIndex = -1;
      showFieldErrors(fieldErrors(err), errorMessage(err));
    }
  });

  root.append(
    h('section', { class: 'page page-narrow' },
      h('div', { class: 'page-head' }, h('div', null,
        h('a', { class: 'back', href: '/' }, '← Projects'),
        h('h1', { id: 'np-title' }, 'New project'),
        h('p', { class: 'muted' }, 'Describe the product; you add the photo on the next screen.'),
      )),
      form,
    ),
  );
  name.focus();
};
