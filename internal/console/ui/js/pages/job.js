// A job: its spec, next fires, live snapshots, recent runs with their
// output, charts, and the actions the caller's role allows. The page an
// alert links to (/ui/jobs/<name>).
import {h, badge, table, field, replace} from '../dom.js';
import * as api from '../api.js';
import {when, seconds} from '../time.js';
import {statusBars, durationLines} from '../charts.js';
import {applyFile} from '../yaml.js';
import {snapshotTable} from './snapshots.js';
import {runDetails} from './run.js';
import {debounced} from './schedulers.js';

// specKeys are the fields a user writes (the rest the server sets).
export const SPEC_KEYS = ['name', 'group', 'schedule', 'timezone', 'target', 'params', 'timeout', 'retries', 'retry_backoff',
  'concurrency', 'misfire', 'catchup_window', 'strategy', 'shards', 'paused', 'labels', 'description', 'history_limit'];

export function writable(j) {
  const out = {};
  for (const k of SPEC_KEYS) if (j[k] !== undefined && j[k] !== null && j[k] !== '') out[k] = j[k];
  return out;
}

export async function render(ctx) {
  const name = ctx.params[0];
  const path = '/api/v1/jobs/' + api.enc(name);
  const head = h('div', {}), fires = h('div', {}), live = h('div', {}), runsEl = h('div', {}), charts = h('div', {});
  const panel = h('div', {id: 'run-panel'});
  let job = null;

  // The actions bar is rebuilt only when what it offers changes (paused,
  // concurrency): a refresh from events must not close the pause form a
  // user is typing a reason into.
  let actionsEl = null, actionsKey = '';
  const drawHead = async () => {
    job = await api.get(path);
    const key = `${job.paused}|${job.concurrency}`;
    if (key !== actionsKey || !actionsEl) {
      actionsEl = actions(ctx, job, drawAll);
      actionsKey = key;
    }
    const spec = specView(job);
    const old = head.querySelector('details.spec');
    spec.open = Boolean(old && old.open);
    replace(head, header(ctx, job), actionsEl, spec);
    const preview = await api.get(path + '/preview' + api.q({n: 10}));
    replace(fires, h('h2', {}, 'Next fires'), firesTable(preview));
  };
  const drawLive = async () => {
    const snaps = (await api.get('/api/v1/snapshots' + api.q({job: name, limit: 200}))).snapshots || [];
    replace(live, h('h2', {}, 'Pending and running'), snapshotTable(ctx, snaps, drawLive));
  };
  const drawRuns = async () => {
    const runs = (await api.get('/api/v1/runs' + api.q({job: name, limit: 20}))).runs || [];
    replace(runsEl, h('h2', {}, 'Recent runs'), runsTable(ctx, runs, panel), h('p', {}, h('a', {href: '/ui/runs' + api.q({job: name})}, 'All runs of ' + name + ' →')));
    const st = await api.get('/api/v1/stats' + api.q({job: name, step: '1h'}));
    replace(charts, h('h2', {}, 'Last 24 h'), statusBars(st.buckets || [], 'Runs of ' + name + ' per hour by status'),
      durationLines(st.buckets || [], 'Duration of ' + name + ' per hour, p50 and p95'));
  };
  const drawAll = async () => { await Promise.all([drawHead(), drawLive(), drawRuns()]); };
  await drawAll();
  const refresh = {job: debounced(drawHead), snapshot: debounced(drawLive), run: debounced(drawRuns, 800)};
  return {
    el: h('section', {}, head, h('div', {class: 'columns'}, h('section', {class: 'card'}, fires), h('section', {class: 'card'}, live)),
      h('section', {class: 'card'}, runsEl, panel), h('section', {class: 'card'}, charts)),
    events: {job: name, types: 'job,snapshot,run'},
    onEvent: (type, data) => {
      if (type === 'job' && data && data.action === 'delete') {
        ctx.notify(`Job ${name} was deleted.`, 'error');
        return;
      }
      if (type === 'reset' || type === 'overflow') { drawAll().catch(() => {}); return; }
      if (refresh[type]) refresh[type]();
      if (type === 'run') refresh.snapshot();
    },
  };
}

function header(ctx, j) {
  const grafana = ctx.config.grafana_url ? ctx.config.grafana_url.split('{job}').join(encodeURIComponent(j.name)) : '';
  return h('div', {},
    h('p', {class: 'crumbs'}, h('a', {href: '/ui/jobs'}, 'Jobs'), ' / ', j.group),
    h('div', {class: 'title-row'}, h('h1', {}, j.name),
      j.paused ? badge('paused') : null, j.last_run ? badge(j.last_run.status) : null),
    j.description ? h('p', {}, j.description) : null,
    h('p', {}, h('code', {}, j.schedule), ' ', j.schedule_text ? j.schedule_text : '(' + j.timezone + ')'),
    j.paused ? h('p', {class: 'note note-warn'}, 'Paused', j.paused_by ? ' by ' + j.paused_by : '', j.pause_reason ? ': ' + j.pause_reason : '',
      j.paused_until ? [' — until ', when(j.paused_until)] : '') : null,
    grafana ? h('p', {}, h('a', {href: grafana, rel: 'noopener noreferrer', target: '_blank'}, 'Dashboard in Grafana ↗')) : null);
}

// actions are the controls the role allows; the API checks each again.
function actions(ctx, j, redraw) {
  const path = '/api/v1/jobs/' + api.enc(j.name);
  const act = (label, fn) => async (ev) => {
    if (ev) ev.preventDefault();
    try {
      await fn();
      ctx.notify(label);
      redraw();
    } catch (e) { ctx.notify(e.message, 'error'); }
  };
  const bar = h('div', {class: 'actions', role: 'group', 'aria-label': 'Actions'});
  if (ctx.can('operator')) {
    const force = h('input', {type: 'checkbox', name: 'force'});
    bar.append(h('form', {class: 'inline', onsubmit: act('Triggered ' + j.name + '.', () => api.post(path + '/trigger' + api.q({force: force.checked ? 'true' : ''})))},
      h('button', {type: 'submit', class: 'primary'}, 'Trigger now'),
      j.concurrency === 'forbid' ? h('label', {class: 'check'}, force, ' even if a run is in progress') : null));
    if (j.paused) {
      bar.append(h('button', {type: 'button', onclick: act('Resumed ' + j.name + '.', () => api.post(path + '/resume'))}, 'Resume'));
    } else {
      const reason = h('input', {type: 'text', name: 'reason', maxlength: 512, placeholder: 'why (shown on the job and in the audit log)'});
      const until = h('input', {type: 'text', name: 'until', placeholder: '2h, or 2026-12-24T08:00:00Z'});
      bar.append(h('details', {class: 'action'}, h('summary', {}, 'Pause…'),
        h('form', {onsubmit: act('Paused ' + j.name + '.', () => api.post(path + '/pause', {reason: reason.value, until: until.value.trim()}))},
          field('Reason', reason), field('Until (optional)', until), h('button', {type: 'submit'}, 'Pause'))));
    }
    const from = h('input', {type: 'datetime-local', name: 'from', required: true});
    const to = h('input', {type: 'datetime-local', name: 'to', required: true});
    const why = h('input', {type: 'text', name: 'reason', maxlength: 512});
    bar.append(h('details', {class: 'action'}, h('summary', {}, 'Backfill…'),
      h('form', {onsubmit: act('Backfill of ' + j.name + ' started.', () => api.post(path + '/backfill',
        {from: new Date(from.value).toISOString(), to: new Date(to.value).toISOString(), reason: why.value}))},
      h('p', {class: 'muted small'}, 'Runs every fire of the schedule in this range (your local time).'),
      field('From', from), field('To', to), field('Reason', why), h('button', {type: 'submit'}, 'Backfill'))));
  }
  if (ctx.can('admin')) {
    bar.append(h('a', {class: 'button', href: '/ui/jobs/' + api.enc(j.name) + '/edit'}, 'Edit'));
    const confirmName = h('input', {type: 'text', name: 'confirm', autocomplete: 'off', spellcheck: 'false'});
    const del = h('button', {type: 'submit', class: 'danger', disabled: true}, 'Delete ' + j.name);
    confirmName.addEventListener('input', () => { del.disabled = confirmName.value !== j.name; });
    bar.append(h('details', {class: 'action'}, h('summary', {}, 'Delete…'),
      h('form', {onsubmit: async (ev) => {
        ev.preventDefault();
        if (confirmName.value !== j.name) return;
        try {
          await api.del('/api/v1/jobs/' + api.enc(j.name));
          ctx.navigate('/ui/jobs');
          ctx.notify('Deleted ' + j.name + '.');
        } catch (e) { ctx.notify(e.message, 'error'); }
      }}, h('p', {}, 'Deleting removes the job and its pending snapshots. Runs in progress finish; history stays until retention removes it.'),
      field('Type the job name to confirm', confirmName), del)));
  }
  return bar.childNodes.length ? bar : h('p', {class: 'muted small'}, 'Your role (' + (ctx.me ? ctx.me.role : 'viewer') + ') can read this job but not change it.');
}

function specView(j) {
  const spec = writable(j);
  const rows = SPEC_KEYS.filter((k) => k !== 'name' && spec[k] !== undefined).map((k) => h('div', {},
    h('dt', {}, k.replace(/_/g, ' ')), h('dd', {}, typeof spec[k] === 'object' ? h('code', {}, JSON.stringify(spec[k])) : String(spec[k]))));
  const json = JSON.stringify(spec, null, 2);
  const yaml = applyFile(spec);
  return h('details', {class: 'card spec'}, h('summary', {}, 'Spec'),
    h('dl', {class: 'facts'}, rows),
    h('div', {class: 'columns'},
      copyBlock('JSON (the API body)', json), copyBlock('YAML (for pink apply)', yaml)));
}

function copyBlock(title, text) {
  const pre = h('pre', {class: 'output', tabindex: '0'}, text);
  return h('div', {}, h('h3', {}, title, ' ', h('button', {type: 'button', class: 'small', onclick: async (ev) => {
    try {
      await navigator.clipboard.writeText(text);
      ev.target.textContent = 'Copied';
    } catch (e) {
      const sel = getSelection();
      sel.selectAllChildren(pre);
    }
  }}, 'Copy')), pre);
}

function firesTable(p) {
  if (p.paused) return h('p', {class: 'muted'}, 'Paused: nothing fires until it is resumed.');
  let prev = null;
  return table(['When (job zone)', 'UTC offset', 'Your time', 'Note'], (p.fires || []).map((f) => {
    const changed = prev !== null && prev !== f.utc_offset;
    prev = f.utc_offset;
    return [h('code', {}, f.at), changed ? h('strong', {title: 'The UTC offset changes here (daylight saving)'}, f.utc_offset + ' ⚑') : f.utc_offset,
      when(f.utc), f.note ? h('span', {class: 'note-inline'}, f.note) : ''];
  }), 'No fire ahead.');
}

function runsTable(ctx, runs, panel) {
  return table(['Status', 'Trigger', 'Attempt', 'Worker', 'Scheduled', 'Started', 'Finished', 'Duration', ''], runs.map((r) => [
    badge(r.status), r.trigger, String(r.attempt) + (r.shard_total > 1 ? ` · shard ${r.shard_index + 1}/${r.shard_total}` : ''),
    r.client || '—', when(r.scheduled_at), when(r.started_at), when(r.finished_at, true), seconds(r.duration_seconds),
    h('button', {type: 'button', class: 'small', 'data-run': r.id, onclick: () => {
      replace(panel, h('h3', {}, 'Run ', h('a', {href: '/ui/runs/' + api.enc(r.id)}, r.id)), runDetails(ctx, r));
      panel.scrollIntoView({block: 'nearest'});
    }}, 'Output'),
  ]), 'No run yet.');
}

