// Schedulers: the scheduler nodes and which one leads.
import {h, table, badge, replace} from '../dom.js';
import * as api from '../api.js';
import {when} from '../time.js';

export async function render() {
  const el = h('section', {});
  const draw = async () => {
    const data = await api.get('/api/v1/nodes');
    replace(el, h('h1', {}, 'Schedulers'),
      h('p', {class: 'muted'}, data.leader ? ['Leader: ', h('strong', {}, data.leader)] : 'No leader right now: fires wait until a node is elected.'),
      table(['Node', 'Role', 'Address', 'Host', 'PID', 'Version', 'Started'], (data.nodes || []).map((n) => [
        n.id, n.leader ? badge('leader') : 'follower', n.addr, n.host, String(n.pid), n.version, when(n.started_at),
      ]), 'No scheduler node is registered.'));
  };
  await draw();
  return {el, events: {types: 'node,leader'}, onEvent: debounced(draw)};
}

// debounced re-reads a page's data after events: at most once per ms, and
// always after the last event, so a busy cluster refreshes steadily
// instead of never (a plain debounce) or on every event.
export function debounced(fn, ms = 400) {
  let t = null;
  return () => {
    if (t) return;
    t = setTimeout(() => {
      t = null;
      fn().catch(() => {});
    }, ms);
  };
}
