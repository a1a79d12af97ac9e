// Snapshots: fires not finished yet (pending, dispatched, running); an
// operator may cancel one that has not started.
import {h, table, badge, replace} from '../dom.js';
import * as api from '../api.js';
import {when} from '../time.js';
import {debounced} from './schedulers.js';

export async function render(ctx) {
  const group = ctx.query.get('group') || '';
  const job = ctx.query.get('job') || '';
  const el = h('section', {});
  const draw = async () => {
    const data = await api.get('/api/v1/snapshots' + api.q({group, job, limit: 200}));
    const snaps = data.snapshots || [];
    replace(el, h('h1', {}, 'Snapshots'),
      h('p', {class: 'muted'}, 'Fires that have not finished: pending (waiting for a worker that runs their target), dispatched (assigned) and running.',
        group ? ` Group ${group}.` : '', job ? ` Job ${job}.` : ''),
      snapshotTable(ctx, snaps, draw),
      data.next_cursor ? h('p', {class: 'muted'}, 'Showing the first 200.') : null);
  };
  await draw();
  return {el, events: {types: 'snapshot', group, job}, onEvent: debounced(draw)};
}

// snapshotTable is shared with the job page.
export function snapshotTable(ctx, snaps, redraw) {
  return table(['Snapshot', 'Job', 'Group', 'State', 'Worker', 'Attempt', 'Scheduled', 'Age', ''], snaps.map((sn) => [
    h('code', {}, sn.id), h('a', {href: '/ui/jobs/' + api.enc(sn.job)}, sn.job), sn.group,
    // A pending snapshot no live worker would take says why (the API's words).
    [badge(sn.state), sn.pending_reason ? h('div', {class: 'note-inline pending-reason'}, sn.pending_reason) : null], sn.client || '—',
    String(sn.attempt), when(sn.scheduled_at), when(sn.created_at, true),
    ctx.can('operator') && sn.state === 'pending' ? h('button', {type: 'button', class: 'small', onclick: async () => {
      try {
        await api.del('/api/v1/snapshots/' + api.enc(sn.id));
        ctx.notify(`Canceled ${sn.id}.`);
        redraw();
      } catch (e) { ctx.notify(e.message, 'error'); }
    }}, 'Cancel') : '',
  ]), 'No snapshot is pending or running.');
}
