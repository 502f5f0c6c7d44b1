// Formatting of times, sizes and addresses. Times are shown in UTC, the reference for evidence.

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  return d.toISOString().replace('T', ' ').replace('Z', '').replace(/\.(\d{3})\d*$/, '.$1');
}

export function fmtSize(n) {
  if (n === undefined || n === null) return '';
  if (n < 1024) return n + ' B';
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return v.toFixed(v < 10 ? 1 : 0) + ' ' + units[i];
}

export function fmtNum(n) {
  if (n === undefined || n === null || n === '') return '—';
  return Number(n).toLocaleString('en-US');
}

export function fmtEndpoint(ep) {
  if (!ep || !ep.ip) return '';
  const ip = ep.ip.includes(':') ? '[' + ep.ip + ']' : ep.ip;
  return ep.port ? ip + ':' + ep.port : ep.ip;
}

export function fmtAge(seconds) {
  if (seconds === undefined || seconds === null) return '';
  if (seconds < 60) return Math.round(seconds) + ' s';
  if (seconds < 3600) return Math.round(seconds / 60) + ' min';
  if (seconds < 86400) return (seconds / 3600).toFixed(1) + ' h';
  return (seconds / 86400).toFixed(1) + ' d';
}

// toUTCInput turns an RFC 3339 time into a datetime-local value (UTC).
export function toUTCInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return '';
  return d.toISOString().slice(0, 16);
}

// fromUTCInput reads a datetime-local value as UTC.
export function fromUTCInput(v) {
  if (!v) return '';
  return (v.length === 16 ? v + ':00' : v) + 'Z';
}
