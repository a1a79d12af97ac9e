// Overview: the cluster at a glance — who leads, the workers, what is
// waiting or running, the last 24 h of runs, the jobs failing now and the
// next fires.
import {h, table, badge, replace} from '../dom.js';
import * as api from '../api.js';
import {when} from '../time.js';
import {statusBars} from '../charts.js';
import {debounced} from './schedulers.js';

export async function render() {
  const el = h('section', {});
  const draw = async () => {
    const [nodes, groups, snaps, stats, failing, jobs] = await Promise.all([
      api.get('/api/v1/nodes'),
      api.get('/api/v1/groups' + api.q({limit: 50})),
      api.get('/api/v1/snapshots' + api.q({limit: 1000})),
      api.get('/api/v1/stats' + api.q({step: '1h'})),
      api.get('/api/v1/jobs' + api.q({failing: 'true', limit: 10})),
      api.get('/api/v1/jobs' + api.q({paused: 'false', limit: 200})),
    ]);
    const clients = await Promise.all((groups.groups || []).map((g) => api.get('/api/v1/groups/' + api.enc(g.name) + '/clients')));
    const live = snaps.snapshots || [];
    const byState = {pending: 0, dispatched: 0, running: 0};
    for (const sn of live) byState[sn.state] = (byState[sn.state] || 0) + 1;
    const t = stats.totals || {};
    const next = [];
    for (const j of jobs.jobs || []) for (const at of (j.next_fires || []).slice(0, 3)) next.push({job: j.name, at});
    next.sort((a, b) => new Date(a.at) - new Date(b.at));
    const runs24 = Object.entries(t.runs || {}).map(([k, v]) => `${v} ${k.replace('_', ' ')}`).join(', ') || 'none';

    replace(el,
      h('h1', {}, 'Overview'),
      h('div', {class: 'tiles'},
        tile('Leader', nodes.leader || 'none', `${(nodes.nodes || []).length} scheduler node(s)`, '/ui/schedulers', !nodes.leader),
        tile('Jobs', String(t.jobs || 0), `${t.active || 0} active · ${t.paused || 0} paused`, '/ui/jobs'),
        tile('Failing', String(t.failing || 0), 'last run failed', '/ui/jobs?failing=true', t.failing > 0),
        tile('Pending', String(byState.pending || 0), `${byState.dispatched || 0} dispatched · ${byState.running || 0} running`, '/ui/snapshots', byState.pending > 0)),
      h('section', {class: 'card'}, h('h2', {}, 'Runs, last 24 h'), h('p', {class: 'muted'}, runs24),
        statusBars(stats.buckets || [], 'Runs per hour of the last 24 hours by status')),
      h('div', {class: 'columns'},
        h('section', {class: 'card'}, h('h2', {}, 'Workers'),
          table(['Group', 'Clients', 'Running / capacity'], (groups.groups || []).map((g, i) => {
            const cl = clients[i].clients || [];
            const cap = cl.reduce((n, c) => n + c.capacity, 0);
            const running = live.filter((sn) => sn.group === g.name && sn.state === 'running').length;
            return [h('a', {href: '/ui/workers'}, g.name), cl.length ? String(cl.length) : badge('none'), `${running} / ${cap}`];
          }), 'No group yet.')),
        h('section', {class: 'card'}, h('h2', {}, 'Failing now'),
          table(['Job', 'Group', 'Failed'], (failing.jobs || []).map((j) => [
            h('a', {href: '/ui/jobs/' + api.enc(j.name)}, j.name), j.group, when(j.last_run && j.last_run.finished_at, true)]),
          'No job is failing.'))),
      h('section', {class: 'card'}, h('h2', {}, 'Next fires'),
        table(['When', 'Job'], next.slice(0, 10).map((f) => [when(f.at, true), h('a', {href: '/ui/jobs/' + api.enc(f.job)}, f.job)]),
          'Nothing is scheduled.')));
  };
  await draw();
  return {el, events: {types: 'job,snapshot,run,client,node,leader'}, onEvent: debounced(draw, 2000)};
}

function tile(title, value, detail, href, alert) {
  return h('a', {class: 'tile' + (alert ? ' tile-alert' : ''), href},
    h('span', {class: 'tile-title'}, title), h('span', {class: 'tile-value'}, value), h('span', {class: 'tile-detail'}, detail));
}
