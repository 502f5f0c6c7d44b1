// Rendering of JSON whose exact shape belongs to another component (the
// controller's switches, flows, topology): tables for lists of objects,
// key/value lists for objects, text for the rest. Always as text.
import { h } from './dom.js';

export function compact(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x !== 'object' || x === null)) return v.join(', ');
  return JSON.stringify(v);
}

export function jsonView(data, maxCols = 9) {
  if (Array.isArray(data)) {
    if (!data.length) return h('div', { class: 'empty', text: 'None.' });
    if (data.every((x) => x && typeof x === 'object' && !Array.isArray(x))) {
      const cols = [];
      for (const row of data) for (const k of Object.keys(row)) if (!cols.includes(k) && cols.length < maxCols) cols.push(k);
      return h('table', {},
        h('thead', {}, h('tr', {}, cols.map((c) => h('th', { text: c.replace(/_/g, ' ') })))),
        h('tbody', {}, data.map((row) => h('tr', {}, cols.map((c) => h('td', { class: 'mono', text: compact(row[c]) }))))));
    }
    return h('pre', { class: 'json', text: JSON.stringify(data, null, 2) });
  }
  if (data && typeof data === 'object') {
    // An object wrapping one list (e.g. {"switches": [...]}) shows the list.
    const lists = Object.entries(data).filter(([, v]) => Array.isArray(v));
    if (lists.length === 1 && Object.keys(data).length <= 2) return jsonView(lists[0][1], maxCols);
    return h('pre', { class: 'json', text: JSON.stringify(data, null, 2) });
  }
  return h('pre', { class: 'json', text: compact(data) });
}

export function fmtPorts(ports) {
  if (!Array.isArray(ports)) return compact(ports);
  return ports.map((p) => {
    if (p && typeof p === 'object') {
      const t = p.transport || p.proto || p.protocol || '';
      const n = p.port !== undefined ? p.port : (p.number !== undefined ? p.number : '');
      return (t ? String(t).toLowerCase() + '/' : '') + n;
    }
    return String(p);
  }).join(', ');
}
