// Login: a token from the operator's tokens file, kept for this tab only.
import {h, field} from '../dom.js';
import * as api from '../api.js';

export async function render(ctx) {
  const next = ctx.query.get('next') || '/ui/';
  const input = h('input', {type: 'password', name: 'token', autocomplete: 'current-password', required: true, spellcheck: 'false'});
  const err = h('p', {class: 'field-error', role: 'alert'});
  const form = h('form', {class: 'card narrow', onsubmit: async (ev) => {
    ev.preventDefault();
    api.setToken(input.value.trim());
    try {
      await api.get('/api/v1/whoami');
    } catch (e) {
      api.setToken('');
      err.textContent = e.status === 401 ? 'That token is not valid.' : e.message;
      input.focus();
      return;
    }
    await ctx.onLogin();
    ctx.navigate(next.startsWith('/ui/') ? next : '/ui/', true);
  }},
  h('h1', {}, 'Sign in to pink'),
  h('p', {class: 'muted'}, 'Paste an API token. It stays in this browser tab only and is sent to this pink as Authorization: Bearer.'),
  field('API token', input), err,
  h('button', {type: 'submit', class: 'primary'}, 'Sign in'));
  setTimeout(() => input.focus(), 0);
  return {el: form};
}
