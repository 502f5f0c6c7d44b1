import { h, mount, notice, toast } from '../dom.js';
import { get, put } from '../api.js';
import { compact, fmtPorts } from '../generic.js';
import { fmtTime } from '../format.js';

export async function mirrorPage(main) {
  const policy = h('section', { class: 'panel flush', 'data-test': 'mirror-policy' });
  const switches = h('section', { class: 'panel flush' });
  mount(main,
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', { text: 'Mirroring' }),
        h('div', { class: 'muted', text: 'A switch turns copying of a protocol on or off on every switch, and its parser on every IRS node. Changes are recorded in the audit log.' }))),
    policy, switches);
  await Promise.all([loadPolicy(policy), loadSwitches(switches)]);
}

async function loadPolicy(el) {
  mount(el, h('div', { class: 'empty', text: 'Asking the controller…' }));
  let st;
  try {
    st = await get('/api/v1/mirror');
  } catch (e) {
    mount(el, h('div', { class: 'panel-head' }, h('h2', { text: 'Protocols' })), notice('error', e.message));
    return;
  }
  const count = h('span', { class: 'muted', 'data-test': 'mirror-count' });
  const recount = () => {
    count.textContent = st.protocols.filter((p) => p.enabled).length + ' of ' + st.protocols.length + ' mirrored';
  };
  const rows = st.protocols.map((p) => row(p, recount));
  recount();
  mount(el,
    h('div', { class: 'panel-head' }, h('h2', { text: 'Protocols' }), count),
    h('table', {},
      h('thead', {}, h('tr', {}, ['Mirrored', 'Protocol', 'Ports', 'IRS', 'Parsers on IRS nodes'].map((c) => h('th', { text: c })))),
      h('tbody', {}, rows)));
}

function row(p, recount) {
  const input = h('input', { type: 'checkbox', 'data-protocol': p.name, 'aria-label': 'Mirror ' + p.name, props: { checked: p.enabled } });
  const state = h('span', { class: 'badge ' + (p.enabled ? 'ok' : ''), 'data-test': 'state-' + p.name, text: p.enabled ? 'on' : 'off' });
  input.addEventListener('change', async () => {
    const want = input.checked;
    input.disabled = true;
    state.className = 'badge warn';
    state.textContent = want ? 'enabling…' : 'disabling…';
    try {
      const res = await put('/api/v1/mirror/' + encodeURIComponent(p.name), { enabled: want });
      state.className = 'badge ' + (res.enabled ? 'ok' : '');
      state.textContent = res.enabled ? 'on' : 'off';
      p.enabled = res.enabled;
      recount();
      const bad = (res.nodes || []).filter((n) => n.result === 'error');
      const sw = (res.controller && res.controller.switches) || [];
      if (bad.length) {
        toast('error', p.name.toUpperCase() + ' mirroring ' + (want ? 'on' : 'off') + ', but ' + bad.length + ' IRS node(s) failed: ' + bad.map((n) => n.node + ': ' + n.error).join('; '));
      } else {
        toast('ok', p.name.toUpperCase() + ' mirroring is now ' + (want ? 'on' : 'off') + ' (' + sw.length + ' switch' + (sw.length === 1 ? '' : 'es') + ' confirmed).');
      }
    } catch (e) {
      input.checked = !want;
      state.className = 'badge bad';
      state.textContent = 'failed';
      toast('error', 'Could not switch ' + p.name.toUpperCase() + ': ' + e.message);
    } finally {
      input.disabled = false;
    }
  });
  const parsers = Object.entries(p.parsers || {});
  return h('tr', {},
    h('td', { class: 'nowrap' }, h('label', { class: 'switch' }, input, h('span', { class: 'slider' })), ' ', state),
    h('td', {}, h('span', { class: 'badge proto', text: p.name }), p.title && p.title.toLowerCase() !== p.name ? h('div', { class: 'muted', text: p.title }) : null),
    h('td', { class: 'mono' }, fmtPorts(p.ports),
      p.ip_protocols && p.ip_protocols.length ? h('div', { class: 'muted', text: 'IP protocol ' + p.ip_protocols.join(', ') }) : null,
      p.dynamic ? h('div', { class: 'muted', text: '+ dynamic connections' }) : null),
    h('td', { class: 'mono', text: compact(p.irs) || 'all' }),
    h('td', {}, parsers.length
      ? parsers.map(([node, on]) => h('span', { class: 'badge ' + (on ? 'ok' : ''), title: node, text: node + (on ? ' on' : ' off') }))
      : h('span', { class: 'muted', text: '—' })));
}

async function loadSwitches(el) {
  mount(el, h('div', { class: 'panel-head' }, h('h2', { text: 'Switches' })), h('div', { class: 'empty', text: 'Asking the controller…' }));
  try {
    const res = await get('/api/v1/switches');
    mount(el, h('div', { class: 'panel-head' }, h('h2', { text: 'Switches' }),
      h('span', { class: 'muted', text: res.switches.length + ' connected' })), h('div', { 'data-test': 'switches' }, switchTable(res.switches)));
  } catch (e) {
    mount(el, h('div', { class: 'panel-head' }, h('h2', { text: 'Switches' })), notice('error', e.message));
  }
}

export function switchTable(list) {
  if (!list.length) return h('div', { class: 'empty', text: 'No switch is connected to the controller.' });
  return h('table', {},
    h('thead', {}, h('tr', {}, ['DPID', 'Address', 'Role', 'Connected since (UTC)', 'Ports', 'Flows desired / installed', 'Repaired'].map((c) => h('th', { text: c })))),
    h('tbody', {}, list.map((s) => h('tr', {},
      h('td', { class: 'mono', text: s.dpid }),
      h('td', { class: 'mono', text: s.address }),
      h('td', { text: s.role }),
      h('td', { class: 'mono nowrap', text: fmtTime(s.connected_since) }),
      h('td', {}, (s.ports || []).map((p) => h('span', { class: 'badge ' + (p.up ? (p.kind === 'irs' ? 'warn' : 'ok') : 'bad'), title: (p.kind || '') + (p.peer ? ' → ' + p.peer : ''), text: (p.name || p.number) + (p.kind ? ' · ' + p.kind : '') }))),
      h('td', { class: 'mono', text: s.flows.desired + ' / ' + s.flows.installed }),
      h('td', { class: 'mono', text: String(s.flows.repaired) })))));
}
