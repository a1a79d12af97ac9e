// Audit: who changed what, when and why, newest first.
import {h, table} from '../dom.js';
import * as api from '../api.js';
import {when} from '../time.js';

export async function render(ctx) {
  const cursor = ctx.query.get('cursor') || '';
  const data = await api.get('/api/v1/audit' + api.q({limit: 50, cursor}));
  const rows = (data.entries || []).map((e) => [when(e.at), e.who, e.role, h('code', {}, e.action),
    e.target && e.action.startsWith('job.') && e.action !== 'job.delete' ? h('a', {href: '/ui/jobs/' + api.enc(e.target)}, e.target) : (e.target || ''),
    e.reason || '']);
  return {el: h('section', {}, h('h1', {}, 'Audit'),
    h('p', {class: 'muted'}, 'Every change made through the API, with who made it and the reason they gave.'),
    table(['When', 'Who', 'Role', 'Action', 'Target', 'Reason'], rows, 'No change recorded yet.'),
    h('nav', {class: 'pager', 'aria-label': 'Pages'}, cursor ? h('a', {href: '/ui/audit'}, 'Newest') : null,
      data.next_cursor ? h('a', {href: '/ui/audit' + api.q({cursor: data.next_cursor})}, 'Older →') : null))};
}
