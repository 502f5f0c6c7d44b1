import { h, mount, notice, toast } from '../dom.js';
import { get, patch, post } from '../api.js';
import { fmtTime } from '../format.js';

const roles = ['analyst', 'auditor', 'admin'];

export async function usersPage(main, ctx) {
  const list = h('section', { class: 'panel flush', 'data-test': 'users' });
  const name = h('input', { type: 'text', name: 'name', autocomplete: 'off', spellcheck: 'false', required: true });
  const role = h('select', { name: 'role' }, roles.map((r) => h('option', { value: r, text: r })));
  const pw = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true, placeholder: 'at least 10 characters' });
  const msg = h('div', {});
  const form = h('form', { class: 'panel', on: { submit: async (e) => {
    e.preventDefault();
    try {
      await post('/api/v1/users', { name: name.value.trim(), role: role.value, password: pw.value });
      toast('ok', 'User ' + name.value.trim() + ' created.');
      name.value = ''; pw.value = ''; msg.textContent = '';
      await load(list, ctx);
    } catch (err) {
      mount(msg, notice('error', err.message));
    }
  } } },
  h('h2', { text: 'New user' }), msg,
  h('div', { class: 'form-row' }, h('label', {}, 'User name', name), h('label', {}, 'Role', role), h('label', {}, 'Password', pw),
    h('button', { type: 'submit', class: 'primary', text: 'Create' })));
  mount(main, h('div', { class: 'page-head' }, h('div', {}, h('h1', { text: 'Users' }),
    h('div', { class: 'muted', text: 'Any change ends the user\u2019s open sessions. The last admin cannot be disabled or demoted.' }))), list, form);
  await load(list, ctx);
}

async function load(el, ctx) {
  let res;
  try {
    res = await get('/api/v1/users');
  } catch (e) {
    mount(el, notice('error', e.message));
    return;
  }
  const change = async (u, body, what) => {
    try {
      await patch('/api/v1/users/' + encodeURIComponent(u.name), body);
      toast('ok', u.name + ': ' + what + '.');
    } catch (e) {
      toast('error', u.name + ': ' + e.message);
    }
    await load(el, ctx);
  };
  mount(el,
    h('div', { class: 'panel-head' }, h('h2', { text: res.users.length + ' users' })),
    h('table', { class: 'middle' },
      h('thead', {}, h('tr', {}, ['Name', 'Role', 'State', 'Created', 'Last login', 'Password changed', ''].map((c) => h('th', { text: c })))),
      h('tbody', {}, res.users.map((u) => {
        const sel = h('select', { 'aria-label': 'Role of ' + u.name }, roles.map((r) => h('option', { value: r, text: r, selected: r === u.role })));
        sel.addEventListener('change', () => change(u, { role: sel.value }, 'role set to ' + sel.value));
        const pwCell = h('span', {});
        const setPw = h('button', { type: 'button', text: 'Set password', on: { click: () => {
          const input = h('input', { type: 'password', autocomplete: 'new-password', placeholder: 'new password', 'aria-label': 'New password for ' + u.name });
          const save = h('button', { type: 'button', class: 'primary', text: 'Save', on: { click: () => { if (input.value) change(u, { password: input.value }, 'password changed'); } } });
          const cancel = h('button', { type: 'button', text: 'Cancel', on: { click: () => mount(pwCell, setPw) } });
          mount(pwCell, input, ' ', save, ' ', cancel);
          input.focus();
        } } });
        mount(pwCell, setPw);
        return h('tr', {},
          h('td', { text: u.name }),
          h('td', {}, sel),
          h('td', {}, h('span', { class: 'badge ' + (u.disabled ? 'bad' : 'ok'), text: u.disabled ? 'disabled' : 'enabled' })),
          h('td', { class: 'mono nowrap', text: fmtTime(u.created_at) }),
          h('td', { class: 'mono nowrap', text: u.last_login_at ? fmtTime(u.last_login_at) : 'never' }),
          h('td', { class: 'mono nowrap', text: fmtTime(u.password_changed_at) }),
          h('td', { class: 'nowrap' },
            h('button', { type: 'button', class: u.disabled ? '' : 'danger', text: u.disabled ? 'Enable' : 'Disable',
              on: { click: () => change(u, { disabled: !u.disabled }, u.disabled ? 'enabled' : 'disabled') } }),
            ' ', pwCell));
      }))));
}
