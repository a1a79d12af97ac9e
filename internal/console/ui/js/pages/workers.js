// Workers: groups and their live clients; an operator may evict one.
import {h, table, replace} from '../dom.js';
import * as api from '../api.js';
import {when} from '../time.js';
import {debounced} from './schedulers.js';

export async function render(ctx) {
  const el = h('section', {});
  const draw = async () => {
    const groups = (await api.get('/api/v1/groups' + api.q({limit: 100}))).groups || [];
    const sections = await Promise.all(groups.map(async (g) => {
      const [cl, sn] = await Promise.all([api.get('/api/v1/groups/' + api.enc(g.name) + '/clients'),
        api.get('/api/v1/snapshots' + api.q({group: g.name, limit: 500}))]);
      const clients = cl.clients || [];
      const running = {};
      for (const x of sn.snapshots || []) {
        if (x.client && x.state === 'running') running[x.client] = (running[x.client] || 0) + 1;
      }
      const cap = clients.reduce((n, c) => n + (c.capacity || 0), 0);
      return h('section', {class: 'card'},
        h('h2', {}, g.name, ' ', h('span', {class: 'muted'}, `${clients.length} client${clients.length === 1 ? '' : 's'}, capacity ${cap}`)),
        g.description ? h('p', {class: 'muted'}, g.description) : null,
        table(['Client', 'Host', 'PID', 'Capacity', 'Running', 'Targets', 'Version', 'Started', ''], clients.map((c) => [
          c.id, c.host, String(c.pid), String(c.capacity), String(running[c.id] || 0),
          (c.targets || []).join(', '), c.version, when(c.started_at),
          ctx.can('operator') ? h('button', {type: 'button', class: 'danger small', onclick: async () => {
            if (!confirm(`Evict ${c.id}? Its runs move to other workers of ${g.name}.`)) return;
            try {
              await api.del('/api/v1/groups/' + api.enc(g.name) + '/clients/' + api.enc(c.id));
              ctx.notify(`Evicted ${c.id}.`);
              draw();
            } catch (e) { ctx.notify(e.message, 'error'); }
          }}, 'Evict') : '',
        ]), 'No live worker: snapshots of this group wait as pending until one registers.'));
    }));
    replace(el, h('h1', {}, 'Workers'), groups.length ? sections : h('p', {class: 'empty'}, 'No group yet.'));
  };
  await draw();
  return {el, events: {types: 'client,snapshot'}, onEvent: debounced(draw)};
}
