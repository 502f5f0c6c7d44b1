import { h, mount, notice } from '../dom.js';
import { get, query } from '../api.js';
import { fmtTime, fromUTCInput, toUTCInput } from '../format.js';
import { compact } from '../generic.js';

const actions = ['login', 'logout', 'search', 'view', 'download', 'mirror-toggle', 'user-create', 'user-update', 'audit-verify', 'access'];

export async function auditPage(main, { params, navigate }) {
  const v = (k) => params.get(k) || '';
  const actor = h('input', { type: 'search', name: 'actor', value: v('actor'), spellcheck: 'false' });
  const action = h('select', { name: 'action' }, h('option', { value: '', text: 'any' }),
    actions.map((a) => h('option', { value: a, text: a, selected: a === v('action') })));
  const outcome = h('select', { name: 'outcome' }, h('option', { value: '', text: 'any' }),
    ['ok', 'denied', 'failure'].map((a) => h('option', { value: a, text: a, selected: a === v('outcome') })));
  const from = h('input', { type: 'datetime-local', value: toUTCInput(v('from')) });
  const to = h('input', { type: 'datetime-local', value: toUTCInput(v('to')) });
  const verifyOut = h('div', { 'aria-live': 'polite' });
  const table = h('section', { class: 'panel flush', 'data-test': 'audit-table' });

  const filters = () => {
    const p = new URLSearchParams();
    const vals = { actor: actor.value.trim(), action: action.value, outcome: outcome.value, from: fromUTCInput(from.value), to: fromUTCInput(to.value) };
    for (const [k, val] of Object.entries(vals)) if (val) p.set(k, val);
    return p;
  };
  mount(main,
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', { text: 'Audit log' }), h('div', { class: 'muted', text: 'Append-only; each row is chained to the previous one by SHA-256.' })),
      h('button', { type: 'button', 'data-test': 'verify', text: 'Verify hash chain', on: { click: async () => {
        mount(verifyOut, notice('info', 'Verifying…'));
        try {
          const r = await get('/api/v1/audit/verify');
          mount(verifyOut, r.ok
            ? notice('ok', 'Chain intact: ' + r.rows + ' rows verified. Head ' + r.head)
            : notice('error', 'Chain broken at row ' + r.bad_seq + ': ' + r.reason + ' (' + r.rows + ' rows verified before it)'));
        } catch (e) {
          mount(verifyOut, notice('error', e.message));
        }
      } } })),
    verifyOut,
    h('form', { class: 'panel', on: { submit: (e) => { e.preventDefault(); navigate('audit', '', filters()); } } },
      h('div', { class: 'filters' },
        h('label', {}, 'Actor', actor), h('label', {}, 'Action', action), h('label', {}, 'Outcome', outcome),
        h('label', {}, 'From (UTC)', from), h('label', {}, 'To (UTC)', to),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: 'Filter' }),
          h('button', { type: 'button', text: 'Clear', on: { click: () => navigate('audit', '', new URLSearchParams()) } })))),
    table);

  const q = {};
  for (const k of ['actor', 'action', 'outcome', 'from', 'to', 'before']) if (params.get(k)) q[k] = params.get(k);
  let page;
  try {
    page = await get('/api/v1/audit' + query({ ...q, limit: 100 }));
  } catch (e) {
    mount(table, notice('error', e.message));
    return;
  }
  const outcomeClass = { ok: 'ok', denied: 'warn', failure: 'bad' };
  mount(table,
    page.entries.length ? h('table', {},
      h('thead', {}, h('tr', {}, ['#', 'Time (UTC)', 'Actor', 'Client', 'Action', 'Target', 'Outcome', 'Detail'].map((c) => h('th', { text: c })))),
      h('tbody', {}, page.entries.map((e) => h('tr', {},
        h('td', { class: 'mono', text: String(e.seq) }),
        h('td', { class: 'mono nowrap', text: fmtTime(e.time) }),
        h('td', {}, e.actor, e.role ? h('span', { class: 'role-tag', text: ' ' + e.role }) : null),
        h('td', { class: 'mono', text: e.client_ip }),
        h('td', { class: 'nowrap', text: e.action }),
        h('td', { class: 'mono', text: e.target || '' }),
        h('td', {}, h('span', { class: 'badge ' + (outcomeClass[e.outcome] || ''), text: e.outcome })),
        h('td', { class: 'mono', text: e.detail ? compact(e.detail) : '' })))))
      : h('div', { class: 'empty', text: 'No audit rows match.' }),
    h('div', { class: 'pager' }, h('span', { text: page.entries.length + ' rows' }),
      h('div', { class: 'buttons' },
        params.get('before') ? h('button', { type: 'button', text: '← Newest', on: { click: () => { const p = filters(); navigate('audit', '', p); } } }) : null,
        page.next ? h('button', { type: 'button', text: 'Older →', on: { click: () => { const p = filters(); p.set('before', String(page.next)); navigate('audit', '', p); } } }) : null)));
}
