// Sign in: in dev mode a user name is enough (POST /api/dev/token);
// otherwise the user pastes a token issued elsewhere.

import { DevModeOffError, devToken, parseToken, saveToken } from '../auth';
import { h } from '../dom';
import type { Screen, Shell } from '../app';

export const signInScreen: Screen<Shell> = (root, app) => {
  app.setTitle('Sign in');
  const next = new URLSearchParams(location.search).get('next') || '/';
  const done = (token: string) => {
    saveToken(token);
    app.navigate(next.startsWith('/') && !next.startsWith('//') ? next : '/');
  };

  const userInput = h('input', { id: 'user', name: 'user', type: 'text', autocomplete: 'username', required: true, maxlength: 64, placeholder: 'alice', 'aria-describedby': 'user-help' });
  const devError = h('p', { class: 'field-error', id: 'user-error', role: 'alert', hidden: true });
  const operator = h('input', { type: 'checkbox', id: 'operator', name: 'operator' });
  const devButton = h('button', { class: 'btn btn-primary btn-block', type: 'submit' }, 'Continue');
  const devForm = h('form', { class: 'stack', 'aria-labelledby': 'dev-title', novalidate: true },
    h('h2', { id: 'dev-title', class: 'h3' }, 'Dev mode'),
    h('div', { class: 'field' },
      h('label', { for: 'user' }, 'User name'),
      userInput,
      h('p', { class: 'help', id: 'user-help' }, 'The server issues a short-lived token for this name.'),
      devError,
    ),
    h('label', { class: 'check', for: 'operator' }, operator, h('span', null, 'Operator (service_role): adds the job monitor')),
    devButton,
  );

  const tokenInput = h('textarea', { id: 'token', name: 'token', rows: 3, spellcheck: 'false', autocomplete: 'off', placeholder: 'eyJhbGciOi…' });
  const tokenError = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const tokenForm = h('form', { class: 'stack', 'aria-labelledby': 'token-title', novalidate: true },
    h('h2', { id: 'token-title', class: 'h3' }, 'Access token'),
    h('div', { class: 'field' },
      h('label', { for: 'token' }, 'Paste a token'),
      tokenInput,
      h('p', { class: 'help' }, 'A JWT from your identity provider, or from ', h('code', null, 'packshot token -user NAME'), '.'),
      tokenError,
    ),
    h('button', { class: 'btn btn-secondary btn-block', type: 'submit' }, 'Sign in with token'),
  );

  const showError = (el: HTMLElement, input: HTMLElement, msg: string) => {
    el.textContent = msg;
    el.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  };

  devForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    devError.hidden = true;
    userInput.removeAttribute('aria-invalid');
    const user = userInput.value.trim();
    if (!user) return showError(devError, userInput, 'Enter a user name.');
    devButton.disabled = true;
    devButton.textContent = 'Signing in…';
    try {
      done(await devToken(user, operator.checked ? 'service_role' : undefined));
    } catch (err) {
      devButton.disabled = false;
      devButton.textContent = 'Continue';
      if (err instanceof DevModeOffError) {
        devForm.hidden = true;
        divider.hidden = true;
        tokenInput.focus();
        showError(tokenError, tokenInput, err.message);
        return;
      }
      showError(devError, userInput, err instanceof Error ? err.message : String(err));
    }
  });

  tokenForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    tokenError.hidden = true;
    tokenInput.removeAttribute('aria-invalid');
    const s = parseToken(tokenInput.value);
    if (!s) return showError(tokenError, tokenInput, 'That is not a token: expected three dot-separated parts with a "sub" claim.');
    if (s.expiresAt !== null && s.expiresAt * 1000 < Date.now()) return showError(tokenError, tokenInput, 'That token has expired.');
    done(s.token);
  });

  const divider = h('div', { class: 'divider', role: 'separator' }, h('span', null, 'or'));
  root.append(
    h('section', { class: 'signin' },
      h('div', { class: 'signin-card card' },
        h('div', { class: 'signin-head' },
          h('span', { class: 'brand-mark brand-mark-lg', 'aria-hidden': 'true' }),
          h('h1', null, 'Sign in to packshot'),
          h('p', { class: 'muted' }, 'One product photo in, a marketplace-ready image pack out.'),
        ),
        devForm,
        divider,
        tokenForm,
      ),
    ),
  );
  userInput.focus();
};
