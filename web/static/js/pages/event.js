import { h, mount, notice } from '../dom.js';
import { get } from '../api.js';
import { fmtTime, fmtEndpoint, fmtSize } from '../format.js';

const download = (path, label, test) => h('a', { href: path, download: '', class: 'nowrap', 'data-test': test, text: label });

function kv(pairs) {
  return h('dl', { class: 'kv' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)]));
}

function addrList(list) {
  if (!list || !list.length) return '';
  return list.map((a) => (a.name ? a.name + ' <' + a.address + '>' : a.address)).join(', ');
}

export async function eventPage(main, { arg }) {
  mount(main, h('div', { class: 'empty', text: 'Loading event…' }));
  const ev = await get('/api/v1/events/' + encodeURIComponent(arg));
  const eml = ev.artifacts.find((a) => a.kind === 'eml');

  const actions = h('div', { class: 'form-row' },
    eml ? download('/api/v1/artifacts/' + eml.id, 'Download .eml', 'download-eml') : null,
    ev.has_pcap ? download('/api/v1/events/' + ev.id + '/pcap', 'Download session pcap', 'download-pcap') : null);

  const meta = h('section', { class: 'panel' },
    h('h2', { text: 'Event' }),
    kv([
      ['Event id', String(ev.id)],
      ['Protocol', h('span', { class: 'badge proto', text: ev.protocol })],
      ['Type', ev.type],
      ['Start (UTC)', h('span', { class: 'mono', text: fmtTime(ev.start) })],
      ['End (UTC)', h('span', { class: 'mono', text: fmtTime(ev.end) })],
      ['Client', h('span', { class: 'mono', text: fmtEndpoint(ev.client) })],
      ['Server', h('span', { class: 'mono', text: fmtEndpoint(ev.server) })],
      ['Transport', ev.transport],
      ['IRS node', ev.node],
      ['UID', h('span', { class: 'hash', text: ev.uid })],
      ['LIID', ev.liid],
      ['Recorded', h('span', { class: 'mono', text: fmtTime(ev.created_at) })],
    ]));

  const addresses = h('section', { class: 'panel' },
    h('h2', { text: 'Addresses' }),
    ev.addresses.length
      ? h('table', {}, h('thead', {}, h('tr', {}, h('th', { text: 'Role' }), h('th', { text: 'Address' }))),
        h('tbody', {}, ev.addresses.map((a) => h('tr', {}, h('td', { text: a.role }), h('td', { class: 'mono', text: a.address })))))
      : h('p', { class: 'muted', text: 'None recorded.' }));

  const artifacts = h('section', { class: 'panel flush' },
    h('div', { class: 'panel-head' }, h('h2', { text: 'Raw data and restored files' }), actions),
    ev.artifacts.length
      ? h('table', { 'data-test': 'artifacts' },
        h('thead', {}, h('tr', {}, ['Kind', 'Name', 'Type', 'Size', 'SHA-256', ''].map((c) => h('th', { text: c })))),
        h('tbody', {}, ev.artifacts.map((a) => h('tr', {},
          h('td', {}, h('span', { class: 'badge', text: a.kind })),
          h('td', { class: 'name', text: a.name }),
          h('td', { class: 'muted', text: a.content_type }),
          h('td', { class: 'nowrap', text: fmtSize(a.size) }),
          h('td', { class: 'hash', text: a.sha256 }),
          h('td', {}, download('/api/v1/artifacts/' + a.id, 'Download', 'download-artifact'))))))
      : h('div', { class: 'empty', text: 'No restored files.' }));

  const extra = [];
  if (ev.anomalies && ev.anomalies.length) {
    extra.push(h('section', { class: 'panel' }, h('h2', { text: 'Anomalies' }),
      h('ul', {}, ev.anomalies.map((a) => h('li', { text: a })))));
  }
  if (ev.summary && Object.keys(ev.summary).length) {
    extra.push(h('section', { class: 'panel' }, h('h2', { text: 'Protocol details' }),
      kv(Object.entries(ev.summary).map(([k, v]) => [k, h('span', { class: 'mono', text: typeof v === 'string' ? v : JSON.stringify(v) })]))));
  }

  const emailPanel = h('section', { class: 'panel', 'data-test': 'email' });
  mount(main,
    h('div', { class: 'page-head' },
      h('div', {},
        h('h1', { 'data-test': 'event-subject', text: ev.subject || '(no subject)' }),
        h('div', { class: 'muted', text: ev.protocol.toUpperCase() + ' · ' + ev.type + ' · ' + fmtTime(ev.start) + ' UTC' })),
      h('a', { href: '#/search', text: '← Back to search', on: { click: (e) => { if (history.length > 1) { e.preventDefault(); history.back(); } } } })),
    eml ? emailPanel : null,
    artifacts,
    h('div', { class: 'grid-2' }, h('div', {}, meta), h('div', {}, addresses, extra)));

  if (eml) {
    mount(emailPanel, h('p', { class: 'muted', text: 'Fetching the message from IRS node ' + ev.node + '…' }));
    try {
      const m = await get('/api/v1/events/' + ev.id + '/email');
      renderEmail(emailPanel, m);
    } catch (e) {
      mount(emailPanel, h('h2', { text: 'Email' }), notice('error', e.message));
    }
  }
}

function renderEmail(el, m) {
  const head = h('div', { class: 'mail-head' },
    h('div', { class: 'mail-subject', 'data-test': 'email-subject', text: m.subject || '(no subject)' }),
    kv([
      ['From', addrList(m.from)],
      ['To', addrList(m.to)],
      ['Cc', addrList(m.cc)],
      ['Reply-To', addrList(m.reply_to)],
      ['Date', m.date],
      ['Message-ID', m.message_id ? h('span', { class: 'mono', text: m.message_id }) : ''],
      ['Client', m.user_agent],
      ['.eml', h('span', {}, fmtSize(m.eml.size) + ' · SHA-256 ', h('span', { class: 'hash', 'data-test': 'eml-sha256', text: m.eml.sha256 }))],
    ]));
  const headers = h('details', {},
    h('summary', { text: 'All header fields (' + m.headers.length + ')' }),
    h('table', { 'data-test': 'headers' }, h('tbody', {}, m.headers.map((x) =>
      h('tr', {}, h('td', { class: 'mono nowrap', text: x.name }), h('td', { class: 'mono', text: x.value }))))));
  const body = h('pre', { class: 'body', 'data-test': 'email-body', text: m.text || '' });
  const parts = m.attachments.length
    ? h('table', { 'data-test': 'attachments' },
      h('thead', {}, h('tr', {}, ['Attachment', 'Type', 'Size', 'SHA-256', ''].map((c) => h('th', { text: c })))),
      h('tbody', {}, m.attachments.map((a) => h('tr', {},
        h('td', { class: 'name attachment-name', text: a.name }),
        h('td', { class: 'muted', text: a.content_type }),
        h('td', { class: 'nowrap', text: fmtSize(a.size) }),
        h('td', { class: 'hash', text: a.sha256 }),
        h('td', {}, a.artifact_id ? h('a', { href: '/api/v1/artifacts/' + a.artifact_id, download: '', text: 'Download' }) : h('span', { class: 'muted', text: 'not stored' }))))))
    : null;
  mount(el,
    h('h2', { text: 'Email' }),
    head,
    m.text_truncated ? notice('info', 'The text is cut: download the .eml for the whole message.') : null,
    body,
    parts ? h('h3', { text: 'Attachments' }) : null, parts,
    m.urls.length ? [h('h3', { text: 'Links in the message (not followed)' }), h('ul', {}, m.urls.map((u) => h('li', { class: 'mono', text: u })))] : null,
    m.anomalies.length ? [h('h3', { text: 'MIME anomalies' }), h('ul', {}, m.anomalies.map((a) => h('li', { text: a })))] : null,
    headers);
}
