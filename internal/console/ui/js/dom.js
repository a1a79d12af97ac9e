// DOM helpers. Every piece of data reaches the page as text: h() turns
// strings into text nodes and sets only attributes, never HTML, so a job
// name or a run's output can hold any markup and it shows as characters.

const SVG = 'http://www.w3.org/2000/svg';

// h builds an element: h('a', {href: '/ui/jobs', class: 'x', onclick: fn}, 'text', child).
export function h(tag, props, ...children) {
  return build(document.createElement(tag), props, children);
}

// s builds an SVG element, as h does.
export function s(tag, props, ...children) {
  return build(document.createElementNS(SVG, tag), props, children);
}

function build(el, props, children) {
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'href') {
      el.setAttribute('href', safeHref(v));
    } else if (k === 'value') {
      el.value = v;
    } else if (k === 'checked' || k === 'disabled' || k === 'selected') {
      el[k] = Boolean(v);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// safeHref keeps links to pink itself and to http(s) URLs; anything else
// (a script or data URL) becomes a dead link.
export function safeHref(v) {
  const text = String(v);
  if (text.startsWith('/') && !text.startsWith('//')) return text;
  try {
    const u = new URL(text);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.href;
  } catch (e) { /* not a URL */ }
  return '#';
}

// replace empties el and fills it with children.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// field wraps a form control with its label and a slot for its error.
export function field(label, control, hint) {
  const id = control.id || ('f-' + Math.random().toString(36).slice(2));
  control.id = id;
  const err = h('p', {class: 'field-error', id: id + '-error', 'aria-live': 'polite'});
  control.setAttribute('aria-describedby', id + '-error');
  return h('div', {class: 'field', 'data-field': control.name || ''},
    h('label', {for: id}, label), control, hint ? h('p', {class: 'hint'}, hint) : null, err);
}

// table builds a table from column titles and rows of cells.
export function table(columns, rows, empty) {
  if (!rows.length) return h('p', {class: 'empty'}, empty || 'Nothing here.');
  return h('div', {class: 'table-wrap'}, h('table', {},
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', {scope: 'col'}, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))));
}

// badge is a status as a coloured word.
export function badge(status) {
  return h('span', {class: 'badge badge-' + String(status).replace(/[^a-z_]/g, '')}, String(status).replace(/_/g, ' '));
}

// debounce calls fn at most once per ms, after the last call.
export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
