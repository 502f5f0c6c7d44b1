// The analyzer's single-page UI: a hash router over pages, one per file
// under pages/. Navigation is by #/page?query so that the back button
// and bookmarks work.

import { h, mount } from './dom.js';
import { get, post, setCSRF, setUnauthorizedHandler } from './api.js';
import { loginPage } from './pages/login.js';
import { searchPage } from './pages/search.js';
import { eventPage } from './pages/event.js';
import { mirrorPage } from './pages/mirror.js';
import { statusPage } from './pages/status.js';
import { auditPage } from './pages/audit.js';
import { usersPage } from './pages/users.js';

const root = document.getElementById('app');
const state = { me: null };

// pages: route name → what it needs and how to draw it.
const pages = {
  search: { title: 'Search', roles: ['admin', 'analyst'], render: searchPage, nav: true },
  event: { title: 'Event', roles: ['admin', 'analyst'], render: eventPage },
  mirror: { title: 'Mirroring', roles: ['admin'], render: mirrorPage, nav: true },
  status: { title: 'Status', roles: ['admin'], render: statusPage, nav: true },
  audit: { title: 'Audit log', roles: ['admin', 'auditor'], render: auditPage, nav: true },
  users: { title: 'Users', roles: ['admin'], render: usersPage, nav: true },
};

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?');
  const parts = path.split('/').filter(Boolean);
  return { name: parts[0] || '', arg: parts[1] || '', params: new URLSearchParams(qs || '') };
}

function homeFor(role) {
  return role === 'auditor' ? 'audit' : 'search';
}

export function navigate(name, arg, params) {
  let hash = '#/' + name + (arg ? '/' + encodeURIComponent(arg) : '');
  const qs = params ? params.toString() : '';
  if (qs) hash += '?' + qs;
  if (location.hash === hash) route();
  else location.hash = hash;
}

function topbar(active) {
  const role = state.me.user.role;
  const links = Object.entries(pages)
    .filter(([, p]) => p.nav && p.roles.includes(role))
    .map(([name, p]) => h('a', { href: '#/' + name, class: name === active ? 'active' : null, text: p.title }));
  return h('header', { class: 'topbar' },
    h('div', { class: 'brand' }, 'sdnli', h('small', { text: 'analyzer' })),
    h('nav', { class: 'nav' }, links),
    h('div', { class: 'who' },
      h('span', { 'data-test': 'whoami', text: state.me.user.name }),
      h('span', { class: 'role', text: role }),
      h('button', { type: 'button', 'data-test': 'logout', on: { click: logout }, text: 'Log out' })));
}

async function logout() {
  try { await post('/api/v1/logout'); } catch (e) { /* the session may be gone already */ }
  state.me = null;
  setCSRF('');
  showLogin();
}

function showLogin(message) {
  mount(root, loginPage({ message, onLogin: (me) => {
    state.me = me;
    setCSRF(me.csrf_token);
    if (!location.hash || location.hash === '#/' || location.hash === '#/login') {
      location.hash = '#/' + homeFor(me.user.role);
    } else {
      route();
    }
  } }));
}

async function route() {
  if (!state.me) return;
  const { name, arg, params } = parseHash();
  const role = state.me.user.role;
  let page = pages[name];
  if (!page || !page.roles.includes(role)) {
    location.replace('#/' + homeFor(role));
    return;
  }
  document.title = page.title + ' · sdnli analyzer';
  document.querySelectorAll('.toast').forEach((t) => t.remove());
  const main = h('main', { 'data-test': 'page-' + name });
  mount(root, topbar(name), main);
  try {
    await page.render(main, { arg, params, me: state.me, navigate });
  } catch (e) {
    mount(main, h('div', { class: 'notice error', role: 'alert', text: e.message }));
  }
}

setUnauthorizedHandler(() => {
  if (state.me) {
    state.me = null;
    setCSRF('');
    showLogin('Your session has ended. Please log in again.');
  }
});

async function start() {
  try {
    const me = await get('/api/v1/me');
    state.me = me;
    setCSRF(me.csrf_token);
  } catch (e) {
    showLogin();
    return;
  }
  if (!location.hash) location.replace('#/' + homeFor(state.me.user.role));
  route();
}

window.addEventListener('hashchange', route);
start();
