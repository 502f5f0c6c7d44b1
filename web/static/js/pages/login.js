import { h } from '../dom.js';
import { post } from '../api.js';

export function loginPage({ message, onLogin }) {
  const name = h('input', { type: 'text', name: 'name', autocomplete: 'username', required: true, autofocus: true, spellcheck: 'false' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const msg = h('div', { 'aria-live': 'polite' });
  if (message) msg.appendChild(h('div', { class: 'notice info', text: message }));
  const button = h('button', { type: 'submit', class: 'primary', text: 'Log in' });
  // method post: should the script not run, the browser must never put
  // the password in a URL.
  const form = h('form', { method: 'post', 'data-test': 'login-form', on: { submit: async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    msg.textContent = '';
    try {
      const me = await post('/api/v1/login', { name: name.value.trim(), password: password.value });
      password.value = '';
      onLogin(me);
    } catch (e) {
      let text = e.message;
      if (e.status === 429 && e.retryAfter) text = 'Too many failed attempts. Try again in ' + e.retryAfter + ' seconds.';
      msg.appendChild(h('div', { class: 'notice error', role: 'alert', 'data-test': 'login-error', text }));
      password.value = '';
      password.focus();
    } finally {
      button.disabled = false;
    }
  } } },
  h('label', {}, 'User name', name),
  h('label', {}, 'Password', password),
  button);
  setTimeout(() => name.focus(), 0);
  return h('div', { class: 'login-wrap' },
    h('div', { class: 'login' },
      h('h1', { text: 'sdnli analyzer' }),
      h('p', { class: 'sub', text: 'Lawful interception · analysis' }),
      msg, form,
      h('p', { class: 'legal', text: 'Authorised users only. Every login, search, download and change is recorded in the audit log.' })));
}
