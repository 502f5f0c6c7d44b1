// DOM building without HTML parsing. Everything from the traffic is
// hostile: it only ever becomes a Text node (textContent), never markup.
// Attributes are set from a short allow-list; no event-handler attribute,
// no inline style, no href other than this origin's paths.

const allowedAttrs = new Set([
  'class', 'id', 'type', 'name', 'value', 'placeholder', 'title', 'for', 'role',
  'autocomplete', 'min', 'max', 'step', 'colspan', 'download', 'aria-label',
  'aria-live', 'aria-checked', 'tabindex', 'required', 'autofocus', 'selected',
  'checked', 'disabled', 'open', 'spellcheck', 'method', 'data-id', 'data-protocol', 'data-test',
]);

// h(tag, props, ...children) builds an element. props: attributes from
// the allow-list, `href` (same-origin paths or #routes only), `text`
// (textContent), `on` ({event: fn}) and `props` (element properties such
// as checked or value). Children are nodes or strings (made Text nodes);
// null, undefined and false are skipped; arrays are flattened.
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') {
      el.textContent = String(v);
    } else if (k === 'on') {
      for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    } else if (k === 'props') {
      for (const [pk, pv] of Object.entries(v)) el[pk] = pv;
    } else if (k === 'href') {
      el.setAttribute('href', safeHref(String(v)));
    } else if (allowedAttrs.has(k)) {
      el.setAttribute(k, v === true ? '' : String(v));
    } else {
      throw new Error('dom: attribute not allowed: ' + k);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) {
      append(el, c);
    } else if (c instanceof Node) {
      el.appendChild(c);
    } else {
      el.appendChild(document.createTextNode(String(c)));
    }
  }
}

// safeHref accepts only paths of this origin and in-page routes.
export function safeHref(v) {
  if (v.startsWith('#') || (v.startsWith('/') && !v.startsWith('//'))) return v;
  return '#';
}

// clear empties an element.
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// mount replaces an element's content.
export function mount(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// notice builds a message box; kind is error, ok or info.
export function notice(kind, text) {
  return h('div', { class: 'notice ' + kind, role: kind === 'error' ? 'alert' : 'status', text });
}

let toastTimer;
// toast shows a short-lived message in a corner.
export function toast(kind, text) {
  document.querySelectorAll('.toast').forEach((t) => t.remove());
  const t = notice(kind, text);
  t.classList.add('toast');
  t.setAttribute('data-test', 'toast');
  document.body.appendChild(t);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.remove(), kind === 'error' ? 9000 : 4000);
}
