// Compact text renderings of values from the controller and the audit
// log's details. Always text, never markup.

export function compact(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x !== 'object' || x === null)) return v.join(', ');
  return JSON.stringify(v);
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
