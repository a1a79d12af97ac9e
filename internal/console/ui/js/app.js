// The console: a router over pages, each a client of the public API. A
// page renders into <main>, names the live events it wants, and re-reads
// what it shows when they arrive.
import {h, replace} from './dom.js';
import * as api from './api.js';
import * as overview from './pages/overview.js';
import * as jobs from './pages/jobs.js';
import * as jobPage from './pages/job.js';
import * as edit from './pages/edit.js';
import * as runs from './pages/runs.js';
import * as run from './pages/run.js';
import * as snapshots from './pages/snapshots.js';
import * as workers from './pages/workers.js';
import * as schedulers from './pages/schedulers.js';
import * as audit from './pages/audit.js';
import * as login from './pages/login.js';

const ROLES = {none: 0, viewer: 1, operator: 2, admin: 3};

const routes = [
  [/^\/ui\/?$/, overview],
  [/^\/ui\/jobs\/?$/, jobs],
  [/^\/ui\/jobs\/new$/, edit],
  [/^\/ui\/jobs\/([^/]+)\/edit$/, edit],
  [/^\/ui\/jobs\/([^/]+)$/, jobPage],
  [/^\/ui\/runs\/?$/, runs],
  [/^\/ui\/runs\/([^/]+)$/, run],
  [/^\/ui\/snapshots\/?$/, snapshots],
  [/^\/ui\/workers\/?$/, workers],
  [/^\/ui\/schedulers\/?$/, schedulers],
  [/^\/ui\/audit\/?$/, audit],
  [/^\/ui\/login$/, login],
];

const nav = [
  ['/ui/', 'Overview'], ['/ui/jobs', 'Jobs'], ['/ui/runs', 'Runs'], ['/ui/snapshots', 'Snapshots'],
  ['/ui/workers', 'Workers'], ['/ui/schedulers', 'Schedulers'], ['/ui/audit', 'Audit'],
];

const state = {me: null, config: {}, page: null, events: null, eventsKey: '', checking: false};

// ctx is what every page gets.
function context(params) {
  return {
    params,
    query: new URLSearchParams(location.search),
    me: state.me,
    config: state.config,
    can: (role) => state.me && ROLES[state.me.role] >= ROLES[role],
    navigate,
    notify,
  };
}

// navigate moves to a console URL without reloading the page.
export function navigate(path, replaceState) {
  if (replaceState) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

// notify shows a message in the banner: kind is "ok" or "error".
export function notify(text, kind) {
  const b = document.getElementById('banner');
  replace(b, h('p', {class: 'note note-' + (kind || 'ok')}, text,
    h('button', {type: 'button', class: 'link', 'aria-label': 'Dismiss', onclick: () => replace(b)}, '×')));
}

function drawNav() {
  const here = location.pathname.replace(/\/$/, '') || '/ui';
  replace(document.getElementById('nav'), nav.map(([href, text]) => {
    const base = href.replace(/\/$/, '');
    const current = base === '/ui' ? here === '/ui' : here === base || here.startsWith(base + '/');
    return h('a', {href, 'aria-current': current ? 'page' : false}, text);
  }));
  const who = document.getElementById('who');
  if (!state.me || !state.me.authentication) {
    replace(who, state.me ? h('span', {class: 'muted', title: 'The API runs without tokens on loopback'}, 'no login') : '');
    return;
  }
  replace(who, h('span', {}, state.me.name + ' · ' + state.me.role), ' ',
    h('button', {type: 'button', class: 'link', onclick: () => { api.setToken(''); state.me = null; navigate('/ui/login'); }}, 'Sign out'));
}

async function loadMe() {
  try {
    state.me = await api.get('/api/v1/whoami');
    return true;
  } catch (e) {
    state.me = null;
    return false;
  }
}

async function render() {
  if (state.page && state.page.dispose) state.page.dispose();
  state.page = null;
  document.getElementById('banner').replaceChildren();
  const path = location.pathname;
  if (!state.me && !path.startsWith('/ui/login')) {
    state.checking = true;
    const ok = await loadMe();
    state.checking = false;
    if (!ok) {
      const back = path + location.search;
      history.replaceState(null, '', '/ui/login' + api.q({next: back === '/ui/login' ? '' : back}));
    }
  }
  drawNav();
  const main = document.getElementById('main');
  let page = null, params = [];
  for (const [re, mod] of routes) {
    const m = re.exec(location.pathname);
    if (m) { page = mod; params = m.slice(1).map(decodeURIComponent); break; }
  }
  if (!page) {
    replace(main, h('h1', {}, 'Not found'), h('p', {}, 'No console page at this address. ', h('a', {href: '/ui/'}, 'Go to the overview.')));
    listen(null);
    return;
  }
  const ctx = context(params);
  ctx.onLogin = async () => { await loadMe(); drawNav(); };
  let view;
  try {
    view = await page.render(ctx);
  } catch (e) {
    view = {el: errorView(e)};
  }
  state.page = view;
  replace(main, view.el);
  const heading = main.querySelector('h1');
  document.title = (heading ? heading.textContent + ' · ' : '') + 'pink';
  listen(view);
}

export function errorView(e) {
  return h('div', {class: 'error-view'}, h('h1', {}, e.status === 404 ? 'Not found' : 'Something went wrong'),
    h('p', {class: 'error-text'}, e.message || String(e)), e.code ? h('p', {class: 'muted'}, 'code: ' + e.code) : null);
}

// listen keeps one event stream open with the filter the page asks for.
function listen(view) {
  const filter = view && view.events;
  const key = filter ? JSON.stringify(filter) : '';
  if (key !== state.eventsKey && state.events) {
    state.events.close();
    state.events = null;
  }
  state.eventsKey = key;
  if (filter && !state.events) {
    state.events = new api.Events(filter, (type, data) => {
      if (state.page && state.page.onEvent) state.page.onEvent(type, data);
    }, (s) => document.body.setAttribute('data-live', s));
  }
}

// Links inside the console move without a reload; others behave normally.
document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a');
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  if ((a.getAttribute('href') || '').startsWith('#')) return; // in-page, like "Skip to content"
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/ui/') && url.pathname !== '/ui' || a.target) return;
  ev.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', render);
// A page being left closes its stream: a browser allows a few connections
// per host, and a stream kept by a page in the back/forward cache would
// hold one of them.
window.addEventListener('pagehide', () => {
  if (state.events) state.events.close();
  state.events = null;
  state.eventsKey = '';
});
window.addEventListener('pageshow', (ev) => { if (ev.persisted) render(); });
api.setUnauthorizedHandler(() => {
  // render() sends to the login itself when it finds no valid token.
  if (state.checking || location.pathname.startsWith('/ui/login')) return;
  state.me = null;
  navigate('/ui/login' + api.q({next: location.pathname + location.search}), true);
});

(async function boot() {
  try {
    state.config = await (await fetch('/ui/config.json')).json();
  } catch (e) {
    state.config = {};
  }
  render();
})();
