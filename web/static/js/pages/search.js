import { h, mount, notice } from '../dom.js';
import { get, query } from '../api.js';
import { fmtTime, fmtEndpoint, fmtNum, toUTCInput, fromUTCInput } from '../format.js';

export const protocols = ['smtp', 'pop3', 'imap', 'http', 'ftp', 'dns', 'icmp', 'ssh', 'pptp', 'l2tp', 'ipsec', 'openvpn', 'wireguard', 'sstp'];
const filterKeys = ['email', 'ip', 'protocol', 'type', 'subject', 'from', 'to', 'sort', 'limit', 'offset'];

export async function searchPage(main, { params, navigate }) {
  const v = (k) => params.get(k) || '';
  const email = h('input', { type: 'search', name: 'email', placeholder: 'alice@example.org', value: v('email'), spellcheck: 'false' });
  const ip = h('input', { type: 'search', name: 'ip', placeholder: '192.0.2.10 or 2001:db8::1', value: v('ip'), spellcheck: 'false' });
  const proto = h('select', { name: 'protocol' }, h('option', { value: '', text: 'any' }),
    protocols.map((p) => h('option', { value: p, text: p.toUpperCase(), selected: p === v('protocol') })));
  const type = h('input', { type: 'search', name: 'type', placeholder: 'email-send, logon…', value: v('type'), spellcheck: 'false' });
  const subject = h('input', { type: 'search', name: 'subject', placeholder: 'text in the subject', value: v('subject') });
  const from = h('input', { type: 'datetime-local', name: 'from', value: toUTCInput(v('from')) });
  const to = h('input', { type: 'datetime-local', name: 'to', value: toUTCInput(v('to')) });
  const sort = h('select', { name: 'sort' },
    h('option', { value: 'desc', text: 'newest first', selected: v('sort') !== 'asc' }),
    h('option', { value: 'asc', text: 'oldest first', selected: v('sort') === 'asc' }));
  const limit = h('select', { name: 'limit' }, ['25', '50', '100', '250'].map((n) =>
    h('option', { value: n, text: n + ' per page', selected: (v('limit') || '50') === n })));

  const submit = (offset) => {
    const p = new URLSearchParams();
    const vals = {
      email: email.value.trim(), ip: ip.value.trim(), protocol: proto.value, type: type.value.trim(),
      subject: subject.value, from: fromUTCInput(from.value), to: fromUTCInput(to.value),
      sort: sort.value, limit: limit.value, offset: offset ? String(offset) : '',
    };
    for (const [k, val] of Object.entries(vals)) if (val) p.set(k, val);
    navigate('search', '', p);
  };

  const form = h('form', { class: 'panel', 'data-test': 'search-form', on: { submit: (e) => { e.preventDefault(); submit(0); } } },
    h('div', { class: 'filters' },
      h('label', {}, 'Email address', email),
      h('label', {}, 'IP address (client or server)', ip),
      h('label', {}, 'Protocol', proto),
      h('label', {}, 'Event type', type),
      h('label', {}, 'Subject contains', subject),
      h('label', {}, 'From (UTC)', from),
      h('label', {}, 'To (UTC)', to),
      h('label', {}, 'Order', sort),
      h('label', {}, 'Page size', limit),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', 'data-test': 'search-button', text: 'Search' }),
        h('button', { type: 'button', text: 'Clear', on: { click: () => navigate('search', '', new URLSearchParams()) } }))));

  const results = h('section', { class: 'panel flush', 'data-test': 'results' });
  mount(main,
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', { text: 'Search events' }),
        h('div', { class: 'muted', text: 'Every search is recorded in the audit log with its query.' }))),
    form, results);

  const active = filterKeys.some((k) => params.has(k));
  if (!active) {
    mount(results, h('div', { class: 'empty' },
      h('p', { text: 'Enter a filter and search, or list the latest events.' }),
      h('button', { type: 'button', text: 'Latest events', on: { click: () => navigate('search', '', new URLSearchParams({ sort: 'desc' })) } })));
    return;
  }
  mount(results, h('div', { class: 'empty', text: 'Searching…' }));
  const q = {};
  for (const k of filterKeys) if (params.get(k)) q[k] = params.get(k);
  let res;
  try {
    res = await get('/api/v1/events' + query(q));
  } catch (e) {
    mount(results, notice('error', e.message));
    return;
  }
  renderResults(results, res, (offset) => submit(offset), navigate);
}

function renderResults(el, res, goto, navigate) {
  const head = h('div', { class: 'panel-head' },
    h('h2', { 'data-test': 'result-count', text: fmtNum(res.total) + (res.total === 1 ? ' event' : ' events') }),
    h('span', { class: 'muted', text: 'Times in UTC' }));
  if (!res.events.length) {
    mount(el, head, h('div', { class: 'empty', text: 'No event matches.' }));
    return;
  }
  const rows = res.events.map((e) => {
    const open = () => navigate('event', String(e.id));
    return h('tr', { class: 'clickable', 'data-id': String(e.id), on: { click: open } },
      h('td', { class: 'nowrap mono' }, h('a', { href: '#/event/' + e.id, text: fmtTime(e.start), on: { click: (ev) => ev.stopPropagation() } })),
      h('td', {}, h('span', { class: 'badge proto', text: e.protocol })),
      h('td', { class: 'nowrap', text: e.type }),
      h('td', { class: 'mono nowrap', text: fmtEndpoint(e.client) }),
      h('td', { class: 'mono nowrap', text: fmtEndpoint(e.server) }),
      h('td', { class: 'subject', title: e.subject, text: e.subject }),
      h('td', { class: 'addrs' }, e.addresses.slice(0, 6).map((a) =>
        h('span', { title: a.role }, h('span', { class: 'role-tag', text: a.role + ' ' }), a.address)),
      e.addresses.length > 6 ? h('span', { class: 'muted', text: '+' + (e.addresses.length - 6) + ' more' }) : null));
  });
  const first = res.offset + 1;
  const last = res.offset + res.events.length;
  const pager = h('div', { class: 'pager' },
    h('span', { text: 'Showing ' + fmtNum(first) + '–' + fmtNum(last) + ' of ' + fmtNum(res.total) }),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', disabled: res.offset === 0, text: '← Previous', on: { click: () => goto(Math.max(0, res.offset - res.limit)) } }),
      h('button', { type: 'button', 'data-test': 'next-page', disabled: last >= res.total, text: 'Next →', on: { click: () => goto(res.offset + res.limit) } })));
  mount(el, head,
    h('table', { 'data-test': 'results-table' },
      h('thead', {}, h('tr', {}, ['Time', 'Protocol', 'Type', 'Client', 'Server', 'Subject', 'Addresses'].map((c) => h('th', { text: c })))),
      h('tbody', {}, rows)),
    pager);
}
