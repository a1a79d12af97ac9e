// New or edit job: every field of the spec as a form, or the whole spec as
// raw JSON or YAML. The API's field errors appear next to their field; the
// schedule shows its next fires (in the job's zone) as it is typed.
import {h, field, replace} from '../dom.js';
import * as api from '../api.js';
import {toYAML} from '../yaml.js';
import {writable} from './job.js';

// errOf is the error slot field() gave a control.
const errOf = (control) => control.closest('.field').querySelector('.field-error');

const choice = (name, values, current) => h('select', {name}, values.map((v) => h('option', {value: v, selected: v === current}, v.replace(/_/g, ' '))));

export async function render(ctx) {
  const editing = ctx.params[0] || '';
  if (!ctx.can('admin')) {
    return {el: h('section', {}, h('h1', {}, editing ? 'Edit ' + editing : 'New job'),
      h('p', {class: 'note note-warn'}, 'Creating and editing jobs needs an admin token. Your role: ' + (ctx.me ? ctx.me.role : 'none') + '.'))};
  }
  let current = {group: 'default', timezone: 'UTC', target: 'http', retries: 0, concurrency: 'allow', misfire: 'run_once', strategy: 'round_robin'};
  if (editing) current = await api.get('/api/v1/jobs/' + api.enc(editing));
  const groups = (await api.get('/api/v1/groups' + api.q({limit: 1000}))).groups || [];
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];

  const c = {
    name: h('input', {type: 'text', name: 'name', value: current.name || '', required: true, disabled: Boolean(editing), autocomplete: 'off', spellcheck: 'false'}),
    group: h('input', {type: 'text', name: 'group', value: current.group, list: 'groups', required: true}),
    schedule: h('input', {type: 'text', name: 'schedule', value: current.schedule || '', required: true, placeholder: '0 9 * * 1-5', spellcheck: 'false', autocomplete: 'off'}),
    timezone: h('input', {type: 'text', name: 'timezone', value: current.timezone, list: 'zones'}),
    target: h('input', {type: 'text', name: 'target', value: current.target, list: 'targets', required: true}),
    params: h('textarea', {name: 'params', rows: 4, spellcheck: 'false', class: 'mono'}),
    timeout: h('input', {type: 'text', name: 'timeout', value: current.timeout || '', placeholder: '1h'}),
    retries: h('input', {type: 'number', name: 'retries', min: 0, value: String(current.retries || 0)}),
    retry_backoff: h('input', {type: 'text', name: 'retry_backoff', value: current.retry_backoff || '', placeholder: '10s'}),
    concurrency: choice('concurrency', ['allow', 'forbid', 'replace'], current.concurrency),
    misfire: choice('misfire', ['run_once', 'run_all', 'skip'], current.misfire),
    catchup_window: h('input', {type: 'text', name: 'catchup_window', value: current.catchup_window || '', placeholder: '1h'}),
    strategy: choice('strategy', ['round_robin', 'random', 'least_loaded', 'hash', 'broadcast'], current.strategy),
    shards: h('input', {type: 'number', name: 'shards', min: 1, value: String(current.shards || 1)}),
    labels: h('textarea', {name: 'labels', rows: 2, spellcheck: 'false', class: 'mono', placeholder: 'team=data'}),
    description: h('textarea', {name: 'description', rows: 2}),
    history_limit: h('input', {type: 'number', name: 'history_limit', min: 0, value: current.history_limit ? String(current.history_limit) : ''}),
    paused: h('input', {type: 'checkbox', name: 'paused', checked: Boolean(current.paused)}),
  };
  c.params.value = current.params ? JSON.stringify(current.params, null, 2) : '{"url": "https://example.com/"}';
  c.labels.value = Object.entries(current.labels || {}).map(([k, v]) => k + '=' + v).join('\n');
  c.description.value = current.description || '';

  const preview = h('div', {class: 'preview', 'aria-live': 'polite', id: 'schedule-preview'});
  const formError = h('p', {class: 'field-error', role: 'alert'});
  const raw = h('textarea', {name: 'raw', rows: 24, spellcheck: 'false', class: 'mono', 'aria-label': 'The job as JSON or YAML'});
  let mode = 'form';

  // spec reads the form into an API body; a field that does not parse is
  // reported next to itself and stops the submit.
  const readForm = () => {
    const spec = {};
    for (const k of ['name', 'group', 'schedule', 'timezone', 'target', 'timeout', 'retry_backoff', 'concurrency', 'misfire', 'catchup_window', 'strategy', 'description']) {
      const v = c[k].value.trim();
      if (v) spec[k] = v;
    }
    if (editing) spec.name = editing;
    for (const k of ['retries', 'shards', 'history_limit']) if (c[k].value !== '') spec[k] = Number(c[k].value);
    spec.paused = c.paused.checked;
    if (c.params.value.trim()) {
      try { spec.params = JSON.parse(c.params.value); } catch (e) { throw {field: 'params', message: 'params must be JSON: ' + e.message}; }
    }
    const labels = {};
    for (const line of c.labels.value.split('\n').map((l) => l.trim()).filter(Boolean)) {
      const i = line.indexOf('=');
      if (i <= 0) throw {field: 'labels', message: 'write one label per line as key=value'};
      labels[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    if (Object.keys(labels).length) spec.labels = labels;
    if (editing && current.revision) spec.revision = current.revision;
    return spec;
  };

  const clearErrors = () => { for (const e of form.querySelectorAll('.field-error')) e.textContent = ''; form.querySelectorAll('[aria-invalid]').forEach((x) => x.removeAttribute('aria-invalid')); };
  const showError = (fieldName, message) => {
    const top = String(fieldName || '').split(/[.[]/)[0];
    const control = c[top];
    if (mode === 'form' && control) {
      control.setAttribute('aria-invalid', 'true');
      errOf(control).textContent = message;
      control.focus();
    } else {
      formError.textContent = (fieldName ? fieldName + ': ' : '') + message;
    }
  };

  const checkSchedule = async () => {
    const schedule = c.schedule.value.trim();
    const err = errOf(c.schedule);
    if (!schedule) { replace(preview); err.textContent = ''; return; }
    try {
      const res = await api.post('/api/v1/schedules/validate', {schedule, timezone: c.timezone.value.trim(), n: 5});
      if (c.schedule.value.trim() !== schedule) return; // typed on meanwhile
      err.textContent = '';
      c.schedule.removeAttribute('aria-invalid');
      replace(preview, h('p', {class: 'muted small'}, 'Next fires in ' + (res.timezone || c.timezone.value || 'UTC') + ':'),
        h('ol', {class: 'fires'}, (res.fires || []).map((f) => h('li', {}, h('code', {}, f.at), f.note ? h('span', {class: 'note-inline'}, ' ' + f.note) : ''))));
    } catch (e) {
      if (c.schedule.value.trim() !== schedule) return;
      replace(preview);
      const target = e.field === 'timezone' ? c.timezone : c.schedule;
      target.setAttribute('aria-invalid', 'true');
      errOf(target).textContent = e.message;
    }
  };
  let timer = null;
  const schedulePreview = () => { clearTimeout(timer); timer = setTimeout(checkSchedule, 250); };
  c.schedule.addEventListener('input', schedulePreview);
  c.timezone.addEventListener('input', schedulePreview);

  const submit = async (ev) => {
    ev.preventDefault();
    clearErrors();
    formError.textContent = '';
    let body, headers;
    try {
      if (mode === 'form') body = readForm();
      else {
        body = raw.value;
        headers = body.trim().startsWith('{') ? undefined : {'Content-Type': 'application/yaml'};
      }
    } catch (e) { showError(e.field, e.message); return; }
    try {
      let saved;
      if (editing) saved = await api.request('PUT', '/api/v1/jobs/' + api.enc(editing), body, headers);
      else saved = await api.request('POST', '/api/v1/jobs', body, headers);
      ctx.navigate('/ui/jobs/' + api.enc(saved.name));
      // Written all the same; a warning says what will not work yet.
      const warnings = saved.warnings || [];
      ctx.notify([(editing ? 'Saved ' : 'Created ') + saved.name + '.', ...warnings].join(' '), warnings.length ? 'warn' : 'ok');
    } catch (e) {
      showError(e.field, e.message);
    }
  };

  const formFields = h('div', {class: 'form-grid'},
    field('Name', c.name, editing ? 'A job keeps its name; create a new job to rename.' : 'Letters, digits, - _ and . ; unique in the cluster.'),
    field('Group', c.group, 'The workers that run it.'),
    h('div', {class: 'wide'}, field('Schedule', c.schedule, 'cron (5 or 6 fields), @daily, @every 5m'), preview),
    field('Time zone', c.timezone, 'IANA name, such as Europe/Berlin'),
    field('Target', c.target, 'http, shell, or a handler a Go worker registered'),
    h('div', {class: 'wide'}, field('Params (JSON)', c.params, 'What the target gets: {"url": ...} for http, {"command": [...]} for shell')),
    field('Timeout', c.timeout), field('Retries', c.retries), field('Retry backoff', c.retry_backoff),
    field('When a run is still going', c.concurrency), field('Missed fires', c.misfire), field('Catch-up window', c.catchup_window),
    field('Worker choice', c.strategy), field('Shards', c.shards), field('History kept (runs)', c.history_limit, 'empty: the scheduler default'),
    h('div', {class: 'wide'}, field('Labels', c.labels, 'one key=value per line')),
    h('div', {class: 'wide'}, field('Description', c.description)),
    h('label', {class: 'check'}, c.paused, ' create paused'));
  const rawPane = h('div', {hidden: true}, h('p', {class: 'muted small'}, 'The whole job as JSON or YAML (the API reads both); unknown fields are refused.'), raw);

  const toggle = h('div', {class: 'tabs', role: 'tablist'},
    ['form', 'json', 'yaml'].map((m) => h('button', {type: 'button', role: 'tab', 'aria-selected': m === 'form' ? 'true' : 'false', 'data-mode': m, onclick: (ev) => {
      try {
        const spec = mode === 'form' ? readForm() : null;
        if (m !== 'form') {
          const src = spec || writable(current);
          delete src.revision;
          raw.value = m === 'json' ? JSON.stringify(src, null, 2) : toYAML(src).replace(/^\n/, '') + '\n';
        }
      } catch (e) { showError(e.field, e.message); return; }
      mode = m;
      formFields.hidden = m !== 'form';
      rawPane.hidden = m === 'form';
      for (const b of toggle.children) b.setAttribute('aria-selected', b === ev.target ? 'true' : 'false');
    }}, m === 'form' ? 'Form' : m.toUpperCase())));

  const form = h('form', {class: 'card job-form', novalidate: true, onsubmit: submit},
    toggle, formFields, rawPane, formError,
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'primary'}, editing ? 'Save' : 'Create job'),
      h('a', {class: 'button', href: editing ? '/ui/jobs/' + api.enc(editing) : '/ui/jobs'}, 'Cancel')));
  if (c.schedule.value) setTimeout(checkSchedule, 0);
  return {el: h('section', {},
    h('p', {class: 'crumbs'}, h('a', {href: '/ui/jobs'}, 'Jobs')),
    h('h1', {}, editing ? 'Edit ' + editing : 'New job'), form,
    h('datalist', {id: 'groups'}, groups.map((g) => h('option', {value: g.name}))),
    h('datalist', {id: 'zones'}, ['UTC', ...zones].map((z) => h('option', {value: z}))),
    h('datalist', {id: 'targets'}, h('option', {value: 'http'}), h('option', {value: 'shell'})))};
}
