// Jobs: searched, filtered and paged by the server, so it stays fast with
// 10,000 jobs. The filter lives in the URL: a filtered list can be linked.
import {h, field, badge, replace} from '../dom.js';
import * as api from '../api.js';
import {when} from '../time.js';
import {strip} from '../charts.js';
import {debounced} from './schedulers.js';

const FILTERS = ['q', 'group', 'paused', 'failing', 'label'];

export async function render(ctx) {
  const f = {};
  for (const k of FILTERS) f[k] = ctx.query.get(k) || '';
  const cursor = ctx.query.get('cursor') || '';
  const groups = (await api.get('/api/v1/groups' + api.q({limit: 1000}))).groups || [];

  const apply = (ev) => {
    if (ev) ev.preventDefault();
    const next = {};
    for (const el of form.elements) {
      if (!el.name) continue;
      next[el.name] = el.type === 'checkbox' ? (el.checked ? 'true' : '') : el.value.trim();
    }
    ctx.navigate('/ui/jobs' + api.q(next), true);
  };
  const form = h('form', {class: 'filters', role: 'search', onsubmit: apply},
    field('Search', h('input', {type: 'search', name: 'q', value: f.q, placeholder: 'name or description'})),
    field('Group', h('select', {name: 'group', onchange: apply}, h('option', {value: ''}, 'all groups'),
      groups.map((g) => h('option', {value: g.name, selected: g.name === f.group}, g.name)))),
    field('State', h('select', {name: 'paused', onchange: apply}, h('option', {value: ''}, 'any'),
      h('option', {value: 'false', selected: f.paused === 'false'}, 'active'), h('option', {value: 'true', selected: f.paused === 'true'}, 'paused'))),
    field('Label', h('input', {type: 'text', name: 'label', value: f.label, placeholder: 'team=data'})),
    h('label', {class: 'check'}, h('input', {type: 'checkbox', name: 'failing', checked: f.failing === 'true', onchange: apply}), ' failing only'),
    h('button', {type: 'submit'}, 'Filter'));

  const body = h('div', {});
  const draw = async () => {
    let data;
    try {
      data = await findJobs(f, cursor);
    } catch (e) {
      replace(body, h('p', {class: 'error-text'}, e.message));
      return;
    }
    const jobs = data.jobs || [];
    const strips = new Map();
    const rows = jobs.map((j) => {
      const cell = h('span', {class: 'strip-cell'});
      strips.set(j.name, cell);
      return h('tr', {},
        h('td', {}, h('a', {href: '/ui/jobs/' + api.enc(j.name)}, j.name), j.description ? h('div', {class: 'muted small'}, j.description) : null),
        h('td', {}, j.group),
        h('td', {}, h('code', {}, j.schedule), j.schedule_text ? h('div', {class: 'muted small'}, j.schedule_text) : h('div', {class: 'muted small'}, j.timezone)),
        h('td', {}, j.paused ? '—' : when((j.next_fires || [])[0], true)),
        h('td', {}, j.last_run ? [badge(j.last_run.status), ' ', when(j.last_run.finished_at, true)] : h('span', {class: 'muted'}, 'no run yet')),
        h('td', {}, cell),
        h('td', {}, j.paused ? [badge('paused'), j.pause_reason ? h('div', {class: 'small'}, j.pause_reason) : null,
          j.paused_until ? h('div', {class: 'small muted'}, 'until ', when(j.paused_until)) : null] : ''));
    });
    replace(body,
      jobs.length ? h('div', {class: 'table-wrap'}, h('table', {class: 'jobs'},
        h('thead', {}, h('tr', {}, ['Name', 'Group', 'Schedule', 'Next fire', 'Last run', '24 h', 'Paused'].map((c) => h('th', {scope: 'col'}, c)))),
        h('tbody', {}, rows))) : h('p', {class: 'empty'}, FILTERS.some((k) => f[k]) ? 'No job matches these filters.' : 'No job yet.'),
      h('nav', {class: 'pager', 'aria-label': 'Pages'},
        cursor ? h('a', {href: '/ui/jobs' + api.q(f)}, '← First page') : null,
        data.next_cursor ? h('a', {href: '/ui/jobs' + api.q(Object.assign({}, f, {cursor: data.next_cursor}))}, 'Next page →') : null));
    fillStrips(strips);
  };
  await draw();
  const el = h('section', {},
    h('div', {class: 'title-row'}, h('h1', {}, 'Jobs'), ctx.can('admin') ? h('a', {class: 'button primary', href: '/ui/jobs/new'}, 'New job') : null),
    form, body);
  return {el, events: {types: 'job,run'}, onEvent: debounced(draw, 1500)};
}

// findJobs reads a page of 50 jobs. The server reads at most 5,000 jobs
// a request, so a rare filter over many jobs answers short pages with a
// cursor: follow it (a few times) until the page is full or the list ends.
async function findJobs(f, cursor) {
  const out = {jobs: [], next_cursor: cursor};
  for (let i = 0; i < 5 && out.jobs.length < 50; i++) {
    const page = await api.get('/api/v1/jobs' + api.q(Object.assign({}, f, {limit: 50 - out.jobs.length, cursor: out.next_cursor})));
    out.jobs.push(...(page.jobs || []));
    out.next_cursor = page.next_cursor;
    if (!out.next_cursor) break;
  }
  return out;
}

// fillStrips draws each visible job's runs of the last 24 h, four reads
// at a time.
async function fillStrips(strips) {
  const since = Date.now() - 24 * 3600 * 1000;
  const queue = [...strips.entries()];
  const worker = async () => {
    for (let e = queue.shift(); e; e = queue.shift()) {
      const [name, cell] = e;
      try {
        const data = await api.get('/api/v1/runs' + api.q({job: name, limit: 24}));
        replace(cell, strip((data.runs || []).filter((r) => new Date(r.scheduled_at) >= since)));
      } catch (err) {
        replace(cell, '—');
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}
