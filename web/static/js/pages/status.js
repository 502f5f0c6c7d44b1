import { h, mount, notice } from '../dom.js';
import { get } from '../api.js';
import { fmtAge, fmtNum, fmtTime } from '../format.js';
import { switchTable } from './mirror.js';

export async function statusPage(main) {
  const nodes = h('section', { 'data-test': 'nodes' });
  const switches = h('section', { class: 'panel flush' });
  const flows = h('section', { class: 'panel flush' });
  mount(main,
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', { text: 'Status' }), h('div', { class: 'muted', text: 'IRS nodes report every few seconds; counters are totals since each node started.' })),
      h('button', { type: 'button', text: 'Refresh', on: { click: () => statusPage(main) } })),
    h('h3', { text: 'IRS nodes' }), nodes,
    h('h3', { text: 'Switches' }), switches,
    h('h3', { text: 'Flows' }), flows);
  await Promise.all([loadNodes(nodes), loadSwitches(switches), loadFlows(flows)]);
}

function get2(o, path) {
  return path.split('.').reduce((x, k) => (x && typeof x === 'object' ? x[k] : undefined), o);
}

function sum(o) {
  if (!o || typeof o !== 'object') return o;
  return Object.values(o).reduce((a, b) => a + (Number(b) || 0), 0);
}

async function loadNodes(el) {
  let res;
  try {
    res = await get('/api/v1/nodes');
  } catch (e) {
    mount(el, notice('error', e.message));
    return;
  }
  if (!res.nodes.length) {
    mount(el, h('div', { class: 'panel empty', text: 'No IRS node has reported yet.' }));
    return;
  }
  mount(el, h('div', { class: 'cards' }, res.nodes.map((n) => {
    const s = n.stats || {};
    const stale = n.heartbeat_age_seconds > res.stale_after_seconds;
    const live = !stale && n.status !== 'stopped';
    const stat = (label, value) => h('div', { class: 'stat' }, h('span', { class: 'muted', text: label }), h('span', { class: 'v', text: value }));
    return h('div', { class: 'panel card', 'data-test': 'node-' + n.name },
      h('h2', {}, h('span', { text: n.name }), h('span', { class: 'badge ' + (live ? 'ok' : 'bad'), text: stale ? 'no heartbeat' : n.status })),
      stat('Last heartbeat', fmtAge(n.heartbeat_age_seconds) + ' ago'),
      stat('Started', fmtTime(n.started_at)),
      stat('Packets captured', fmtNum(get2(s, 'engine.packets'))),
      stat('Kernel drops', fmtNum(get2(s, 'engine.source.kernel_drops'))),
      stat('Raw packets dropped', fmtNum(get2(s, 'engine.raw_dropped_packets'))),
      stat('Active flows', fmtNum(get2(s, 'engine.flows_active'))),
      stat('Connections parsed', fmtNum(sum(get2(s, 'engine.connections')))),
      stat('Events', fmtNum(get2(s, 'engine.events'))),
      stat('Events spooled', fmtNum(get2(s, 'sink.spooled'))),
      stat('Database', get2(s, 'sink.db_up') === undefined ? '—' : (get2(s, 'sink.db_up') ? 'up' : 'DOWN')),
      stat('API', n.api_url || '—'));
  })));
}

async function loadSwitches(el) {
  try {
    mount(el, switchTable((await get('/api/v1/switches')).switches));
  } catch (e) {
    mount(el, notice('error', e.message));
  }
}

async function loadFlows(el) {
  let res;
  try {
    res = await get('/api/v1/flows');
  } catch (e) {
    mount(el, notice('error', e.message));
    return;
  }
  if (!res.switches.length) {
    mount(el, h('div', { class: 'empty', text: 'No switch is connected to the controller.' }));
    return;
  }
  mount(el, res.switches.map((s) => h('details', { class: 'flows' },
    h('summary', { text: s.dpid + ': ' + (s.installed || []).length + ' installed, ' + (s.missing || []).length + ' missing, ' + (s.unexpected || []).length + ' unexpected' + (s.error ? ' — ' + s.error : '') }),
    h('pre', { class: 'json', text: (s.installed || []).join('\n') }))));
}
