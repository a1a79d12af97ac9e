// A run: when it was scheduled, started and finished, where it ran, and
// its output and error as text in a monospace viewer.
import {h, badge} from '../dom.js';
import * as api from '../api.js';
import {when, seconds} from '../time.js';

// The truncation marker the executors write when output outgrew its bound.
const TRUNCATED = '[... truncated ...]';

export async function render(ctx) {
  const id = ctx.params[0];
  const r = await api.get('/api/v1/runs/' + api.enc(id));
  return {el: h('section', {},
    h('p', {class: 'crumbs'}, h('a', {href: '/ui/runs'}, 'Runs'), ' / ', h('a', {href: '/ui/jobs/' + api.enc(r.job)}, r.job)),
    h('h1', {}, 'Run ', h('code', {}, r.id)),
    runDetails(ctx, r))};
}

// runDetails is a run's facts and output; the job page shows it inline.
export function runDetails(ctx, r) {
  const trace = ctx.config.trace_url && r.trace_id ? ctx.config.trace_url.split('{trace_id}').join(encodeURIComponent(r.trace_id)) : '';
  return h('div', {class: 'run'},
    h('dl', {class: 'facts'},
      fact('Status', badge(r.status)), fact('Trigger', r.trigger), fact('Attempt', String(r.attempt)),
      r.shard_total > 1 ? fact('Shard', `${r.shard_index + 1} of ${r.shard_total}`) : null,
      fact('Worker', r.client || '—'), fact('Target', r.target),
      fact('Scheduled', when(r.scheduled_at)), fact('Started', when(r.started_at)), fact('Finished', when(r.finished_at)),
      fact('Duration', seconds(r.duration_seconds)),
      r.error_code ? fact('Error code', h('code', {}, r.error_code)) : null,
      trace ? fact('Trace', h('a', {href: trace, rel: 'noopener noreferrer', target: '_blank'}, r.trace_id)) : (r.trace_id ? fact('Trace', h('code', {}, r.trace_id)) : null)),
    r.error ? h('div', {}, h('h3', {}, 'Error'), h('pre', {class: 'output output-error', tabindex: '0'}, r.error)) : null,
    h('h3', {}, 'Output'),
    output(r.output));
}

function output(text) {
  if (!text) return h('p', {class: 'muted'}, 'The run printed nothing.');
  const truncated = text.includes(TRUNCATED);
  return h('div', {},
    truncated ? h('p', {class: 'note note-warn'}, 'The output was longer than pink keeps; the cut is marked ', h('code', {}, TRUNCATED), '.') : null,
    h('pre', {class: 'output', tabindex: '0', 'aria-label': 'Run output'}, text));
}

function fact(k, v) {
  return h('div', {}, h('dt', {}, k), h('dd', {}, v));
}
