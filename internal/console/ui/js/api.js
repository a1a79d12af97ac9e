// The console's client of pink's public JSON API: the same routes, tokens
// and roles as any script. The token lives in sessionStorage (gone when
// the tab closes) and travels as Authorization: Bearer.

const TOKEN = 'pink.token';

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || 'http_' + status;
    this.field = e.field || '';
  }
}

export function token() { return sessionStorage.getItem(TOKEN) || ''; }
export function setToken(t) { t ? sessionStorage.setItem(TOKEN, t) : sessionStorage.removeItem(TOKEN); }

function headers(extra) {
  const hd = Object.assign({Accept: 'application/json'}, extra || {});
  if (token()) hd.Authorization = 'Bearer ' + token();
  return hd;
}

// onUnauthorized is called on a 401 (the app shows the login).
let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

// request sends one API call and returns its JSON answer; an error answer
// throws an ApiError carrying the API's code, field and message.
export async function request(method, path, body, extraHeaders) {
  const init = {method, headers: headers(extraHeaders), credentials: 'omit'};
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const resp = await fetch(path, init);
  let data = null;
  const text = await resp.text();
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = null; }
  }
  if (resp.status === 401) onUnauthorized();
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

export const get = (path) => request('GET', path);
export const post = (path, body, hd) => request('POST', path, body, hd);
export const put = (path, body) => request('PUT', path, body);
export const del = (path, hd) => request('DELETE', path, undefined, hd);

// q builds a query string from the set values of params.
export function q(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.forEach((x) => u.append(k, x));
    else if (v !== undefined && v !== null && v !== '') u.set(k, v);
  }
  const s = u.toString();
  return s ? '?' + s : '';
}

// enc encodes one path segment.
export const enc = encodeURIComponent;

// Events reads GET /api/v1/events with fetch (EventSource cannot send an
// Authorization header), resumes after a drop from the last event id, and
// calls onEvent(type, data) for each event; a "reset" (the revision it
// resumed from was compacted) or "overflow" tells the page to re-read.
export class Events {
  constructor(filter, onEvent, onState) {
    this.filter = filter;
    this.onEvent = onEvent;
    this.onState = onState || (() => {});
    this.lastId = '';
    this.closed = false;
    this.ctrl = null;
    this.retry = 500;
    this.loop();
  }

  close() {
    this.closed = true;
    if (this.ctrl) this.ctrl.abort();
  }

  async loop() {
    while (!this.closed) {
      try {
        await this.once();
        this.retry = 500;
      } catch (e) {
        if (this.closed) return;
        this.onState('reconnecting');
      }
      if (this.closed) return;
      await new Promise((r) => setTimeout(r, this.retry));
      this.retry = Math.min(this.retry * 2, 10000);
    }
  }

  async once() {
    this.ctrl = new AbortController();
    const params = Object.assign({}, this.filter);
    if (this.lastId) params.last_event_id = this.lastId;
    const resp = await fetch('/api/v1/events' + q(params), {headers: headers({Accept: 'text/event-stream'}), signal: this.ctrl.signal, credentials: 'omit'});
    if (resp.status === 401) { onUnauthorized(); this.closed = true; return; }
    if (!resp.ok) throw new Error('events: HTTP ' + resp.status);
    this.onState('live');
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) throw new Error('events: stream ended');
      buf += value;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        this.dispatch(buf.slice(0, i));
        buf = buf.slice(i + 2);
      }
    }
  }

  dispatch(block) {
    let type = 'message', data = '', id = '';
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const c = line.indexOf(':');
      const k = c < 0 ? line : line.slice(0, c);
      const v = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
      if (k === 'event') type = v;
      else if (k === 'data') data += (data ? '\n' : '') + v;
      else if (k === 'id') id = v;
    }
    if (id) this.lastId = id;
    if (type === 'heartbeat' || (!data && type === 'message')) return;
    let parsed = null;
    try { parsed = data ? JSON.parse(data) : null; } catch (e) { parsed = null; }
    this.onEvent(type, parsed);
  }
}
