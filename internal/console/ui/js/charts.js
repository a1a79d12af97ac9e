// Charts drawn as inline SVG by our own code: runs per bucket by status,
// duration percentiles, and a job's recent runs as a strip.
import {s, h} from './dom.js';

export const STATUSES = ['succeeded', 'failed', 'timed_out', 'lost', 'canceled'];

// statusBars is a stacked bar per bucket of GET /api/v1/stats.
export function statusBars(buckets, label) {
  const W = 1200, H = 150, pad = 24;
  const max = Math.max(1, ...buckets.map((b) => b.total || 0));
  const bw = (W - pad) / Math.max(buckets.length, 1);
  const svg = s('svg', {viewBox: `0 0 ${W} ${H + 20}`, class: 'chart', role: 'img', 'aria-label': label});
  svg.appendChild(s('title', {}, label));
  buckets.forEach((b, i) => {
    let y = H;
    for (const st of STATUSES) {
      const n = (b.runs || {})[st] || 0;
      if (!n) continue;
      const bh = (n / max) * (H - pad);
      y -= bh;
      svg.appendChild(s('rect', {x: pad + i * bw + 1, y, width: Math.max(bw - 2, 1), height: bh, class: 'fill-' + st},
        s('title', {}, `${new Date(b.start).toLocaleString()}: ${n} ${st.replace('_', ' ')}`)));
    }
  });
  svg.appendChild(s('text', {x: 0, y: 12, class: 'axis'}, String(max)));
  svg.appendChild(s('text', {x: 0, y: H, class: 'axis'}, '0'));
  if (buckets.length) {
    svg.appendChild(s('text', {x: pad, y: H + 16, class: 'axis'}, new Date(buckets[0].start).toLocaleString([], {hour: '2-digit', minute: '2-digit'})));
    svg.appendChild(s('text', {x: W, y: H + 16, class: 'axis', 'text-anchor': 'end'}, 'now'));
  }
  return h('figure', {class: 'figure'}, svg, legend());
}

function legend() {
  return h('figcaption', {class: 'legend'}, STATUSES.map((st) =>
    h('span', {class: 'legend-item'}, s('svg', {viewBox: '0 0 10 10', width: 10, height: 10, 'aria-hidden': 'true'}, s('rect', {width: 10, height: 10, class: 'fill-' + st})), ' ' + st.replace('_', ' '))));
}

// durationLines draws p50 and p95 of each bucket.
export function durationLines(buckets, label) {
  const W = 1200, H = 120, pad = 48;
  const pts = buckets.map((b, i) => ({i, d: b.duration_seconds}));
  const max = Math.max(0.001, ...pts.filter((p) => p.d).map((p) => p.d.p95));
  const x = (i) => pad + (i + 0.5) * ((W - pad) / Math.max(buckets.length, 1));
  const y = (v) => H - (v / max) * (H - 10);
  const svg = s('svg', {viewBox: `0 0 ${W} ${H + 4}`, class: 'chart', role: 'img', 'aria-label': label});
  svg.appendChild(s('title', {}, label));
  for (const [key, cls] of [['p95', 'line-p95'], ['p50', 'line-p50']]) {
    const d = pts.filter((p) => p.d).map((p, k) => (k ? 'L' : 'M') + x(p.i).toFixed(1) + ' ' + y(p.d[key]).toFixed(1)).join(' ');
    if (d) svg.appendChild(s('path', {d, class: cls}));
    for (const p of pts.filter((p) => p.d)) {
      svg.appendChild(s('circle', {cx: x(p.i), cy: y(p.d[key]), r: 2.5, class: cls}, s('title', {}, `${key} ${fmt(p.d[key])}`)));
    }
  }
  svg.appendChild(s('text', {x: 0, y: 12, class: 'axis'}, fmt(max)));
  svg.appendChild(s('text', {x: 0, y: H, class: 'axis'}, '0'));
  return h('figure', {class: 'figure'}, svg, h('figcaption', {class: 'legend'},
    h('span', {class: 'legend-item key-p50'}, '— p50'), ' ', h('span', {class: 'legend-item key-p95'}, '— p95')));
}

function fmt(v) {
  return v < 1 ? Math.round(v * 1000) + ' ms' : v.toFixed(1) + ' s';
}

// strip is a job's recent runs, oldest first, one cell each.
export function strip(runs) {
  const list = runs.slice(0, 24).reverse();
  const svg = s('svg', {viewBox: `0 0 ${24 * 6} 12`, class: 'strip', role: 'img',
    'aria-label': list.length ? `${list.filter((r) => r.status === 'succeeded').length} of ${list.length} recent runs succeeded` : 'no runs in 24 h'});
  list.forEach((r, i) => svg.appendChild(s('rect', {x: i * 6, y: 0, width: 5, height: 12, class: 'fill-' + r.status},
    s('title', {}, `${r.status} · ${new Date(r.scheduled_at).toLocaleString()}`))));
  if (!list.length) svg.appendChild(s('rect', {x: 0, y: 5, width: 24 * 6, height: 2, class: 'fill-none'}));
  return svg;
}
