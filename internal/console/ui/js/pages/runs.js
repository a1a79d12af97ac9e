// Runs: finished runs across all jobs, newest first, filtered by status,
// group, job and time, updating live on the first page.
import {h, field, badge, table, replace} from '../dom.js';
import * as api from '../api.js';
import {when, seconds, isoLocal} from '../time.js';
import {debounced} from './schedulers.js';

const STATUSES = ['succeeded', 'failed', 'timed_out', 'lost', 'canceled'];

export async function render(ctx) {
  const f = {};
  for (const k of ['job', 'group', 'status', 'since', 'until']) f[k] = ctx.query.get(k) || '';
  const cursor = ctx.query.get('cursor') || '';
  const apply = (ev) => {
    if (ev) ev.preventDefault();
    const next = {};
    for (const el of form.elements) {
      if (!el.name) continue;
      let v = el.value.trim();
      if (v && el.type === 'datetime-local') v = new Date(v).toISOString();
      next[el.name] = v;
    }
    ctx.navigate('/ui/runs' + api.q(next), true);
  };
  const local = (iso) => (iso ? isoLocal(new Date(iso)) : '');
  const form = h('form', {class: 'filters', onsubmit: apply},
    field('Job', h('input', {type: 'text', name: 'job', value: f.job, spellcheck: 'false'})),
    field('Group', h('input', {type: 'text', name: 'group', value: f.group, spellcheck: 'false'})),
    field('Status', h('select', {name: 'status', onchange: apply}, h('option', {value: ''}, 'any'),
      STATUSES.map((st) => h('option', {value: st, selected: st === f.status}, st.replace('_', ' '))))),
    field('Since', h('input', {type: 'datetime-local', name: 'since', value: local(f.since)})),
    field('Until', h('input', {type: 'datetime-local', name: 'until', value: local(f.until)})),
    h('button', {type: 'submit'}, 'Filter'));
  const body = h('div', {});
  const draw = async () => {
    // Runs of one job are their own list (no group or time filter).
    const params = f.job ? {job: f.job, status: f.status} : {group: f.group, status: f.status, since: f.since, until: f.until};
    let data;
    try {
      data = await api.get('/api/v1/runs' + api.q(Object.assign(params, {limit: 50, cursor})));
    } catch (e) {
      replace(body, h('p', {class: 'error-text'}, e.message));
      return;
    }
    replace(body,
      table(['Job', 'Status', 'Trigger', 'Attempt', 'Worker', 'Scheduled', 'Finished', 'Duration', ''], (data.runs || []).map((r) => [
        h('a', {href: '/ui/jobs/' + api.enc(r.job)}, r.job), badge(r.status), r.trigger, String(r.attempt), r.client || '—',
        when(r.scheduled_at), when(r.finished_at, true), seconds(r.duration_seconds),
        h('a', {href: '/ui/runs/' + api.enc(r.id)}, 'Output'),
      ]), 'No run matches.'),
      h('nav', {class: 'pager', 'aria-label': 'Pages'},
        cursor ? h('a', {href: '/ui/runs' + api.q(f)}, '← Newest') : null,
        data.next_cursor ? h('a', {href: '/ui/runs' + api.q(Object.assign({}, f, {cursor: data.next_cursor}))}, 'Older →') : null));
  };
  await draw();
  const live = !cursor && !f.until;
  return {
    el: h('section', {}, h('h1', {}, 'Runs'), h('p', {class: 'muted'}, live ? 'Newest first; new runs appear as they finish.' : 'Newest first.'), form, body),
    events: live ? {types: 'run', job: f.job, group: f.group} : null,
    onEvent: debounced(draw, 700),
  };
}
