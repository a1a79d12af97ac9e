// Times: shown in the viewer's zone, with the UTC instant on hover.
import {h} from './dom.js';

const local = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

// when is an absolute time element; relative shows "in 5 min" / "3 h ago"
// and the absolute time on hover.
export function when(iso, relative) {
  if (!iso) return h('span', {class: 'muted'}, '—');
  const d = new Date(iso);
  if (isNaN(d)) return h('span', {}, String(iso));
  const text = relative ? ago(d) : local.format(d);
  const title = (relative ? local.format(d) + ' · ' : '') + d.toISOString().replace('.000Z', 'Z') + ' UTC';
  return h('time', {datetime: d.toISOString(), title}, text);
}

// ago is a short relative time: "12 s ago", "in 3 min".
export function ago(d, now = new Date()) {
  const s = Math.round((d - now) / 1000);
  const a = Math.abs(s);
  let text;
  if (a < 60) text = a + ' s';
  else if (a < 3600) text = Math.round(a / 60) + ' min';
  else if (a < 86400) text = Math.round(a / 3600) + ' h';
  else text = Math.round(a / 86400) + ' d';
  return s >= 0 ? 'in ' + text : text + ' ago';
}

// seconds reads a duration in seconds for people.
export function seconds(v) {
  if (v === undefined || v === null) return '—';
  if (v < 1) return Math.round(v * 1000) + ' ms';
  if (v < 60) return v.toFixed(1) + ' s';
  if (v < 3600) return Math.floor(v / 60) + ' min ' + Math.round(v % 60) + ' s';
  return Math.floor(v / 3600) + ' h ' + Math.round((v % 3600) / 60) + ' min';
}

// isoLocal is a Date as a datetime-local input's value.
export function isoLocal(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
