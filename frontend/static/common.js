/* Shared helpers for every page: CSRF token, JSON requests, a server-sent events reader,
   error display and the sign-out button. Exposed as window.Alliance. */
(function () {
  'use strict';

  const NETWORK_MESSAGE = 'Connection lost — your message is kept.';

  class ApiError extends Error {
    constructor(message, { status = 0, kind = 'error', retryable = false } = {}) {
      super(message);
      this.name = 'ApiError';
      this.status = status;
      this.kind = kind;
      this.retryable = retryable;
    }
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') || '' : '';
  }

  function setCsrfToken(token) {
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && typeof token === 'string') meta.setAttribute('content', token);
  }

  const STATUS_MESSAGES = {
    401: 'Your sign-in has expired. Please sign in again.',
    403: 'That action is not allowed. Try reloading the page.',
    404: 'That could not be found.',
    409: 'That conflicts with the current state of the session. Try reloading the page.',
    422: 'Please check what you entered.',
    429: 'Too many requests just now. Please wait a moment and try again.',
  };
  function fallbackMessage(status) {
    if (STATUS_MESSAGES[status]) return STATUS_MESSAGES[status];
    if (status >= 500) return 'Something went wrong on the server. Please try again.';
    return 'The request did not succeed (status ' + status + ').';
  }

  /* FastAPI may send detail as a string or as a list of validation problems. */
  function detailText(detail) {
    if (typeof detail === 'string') return detail.trim();
    if (!Array.isArray(detail)) return '';
    return detail.map((item) => (item && typeof item.msg === 'string' ? item.msg : '')).filter(Boolean).join(' ');
  }

  /* Turn a non-2xx response into an ApiError carrying the server's `detail`. */
  async function errorFromResponse(response) {
    const body = await response.json().catch(() => null);
    const message = (body && detailText(body.detail)) || fallbackMessage(response.status);
    const kind = body && typeof body.kind === 'string' ? body.kind : 'http_' + response.status;
    const retryable = Boolean(body && body.retryable) || response.status >= 500 || response.status === 429;
    return new ApiError(message, { status: response.status, kind, retryable });
  }

  function jsonHeaders(extra) {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrfToken() };
    return Object.assign(headers, extra || {});
  }

  /* fetch() that turns network failures into ApiError(kind 'network'). */
  async function request(url, options) {
    try {
      return await fetch(url, Object.assign({ credentials: 'same-origin' }, options));
    } catch (err) {
      if (err && err.name === 'AbortError') throw err;
      throw new ApiError(NETWORK_MESSAGE, { kind: 'network', retryable: true });
    }
  }

  async function parseJSONResponse(response) {
    if (!response.ok) throw await errorFromResponse(response);
    return response.status === 204 ? null : response.json().catch(() => null);
  }

  async function postJSON(url, body, extraHeaders) {
    const payload = JSON.stringify(body === undefined ? {} : body);
    const response = await request(url, { method: 'POST', headers: jsonHeaders(extraHeaders), body: payload });
    return parseJSONResponse(response);
  }

  async function getJSON(url) {
    const response = await request(url, { method: 'GET', headers: { Accept: 'application/json' } });
    return parseJSONResponse(response);
  }

  /* Read a text/event-stream body. Calls onEvent(name, data) for each complete event whose
     data is JSON. Resolves when the stream ends; rejects if reading fails (connection lost). */
  async function readSSE(response, onEvent) {
    if (!response || !response.body) throw new ApiError('The server sent an empty response.', { kind: 'stream' });
    const reader = response.body.getReader();
    const decoder = new TextDecoder('utf-8'); // drops a leading byte-order mark itself
    let buffer = '';
    let eventName = '';
    let dataLines = [];

    function dispatch() {
      const name = eventName || 'message';
      const lines = dataLines;
      eventName = '';
      dataLines = [];
      if (lines.length === 0) return;
      let data;
      try {
        data = JSON.parse(lines.join('\n'));
      } catch (_) {
        console.warn('Ignoring an event whose data is not JSON:', name);
        return;
      }
      if (data && typeof data === 'object' && data.v !== undefined && data.v !== 1) {
        console.warn('Event with unexpected version', data.v, name);
      }
      try {
        onEvent(name, data);
      } catch (err) {
        console.error('Error while handling event', name, err);
      }
    }

    function handleLine(line) {
      if (line === '') return dispatch();
      if (line.charAt(0) === ':') return undefined; // comment or keep-alive ping
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.charAt(0) === ' ') value = value.slice(1);
      if (field === 'event') eventName = value;
      else if (field === 'data') dataLines.push(value);
      return undefined; // id and retry are not used
    }

    function drain(final) {
      let start = 0;
      for (let i = 0; i < buffer.length; i += 1) {
        const ch = buffer.charCodeAt(i);
        if (ch !== 10 && ch !== 13) continue;
        if (ch === 13 && i + 1 === buffer.length && !final) break; // \r may be half of \r\n
        const line = buffer.slice(start, i);
        if (ch === 13 && buffer.charCodeAt(i + 1) === 10) i += 1;
        start = i + 1;
        handleLine(line);
      }
      buffer = buffer.slice(start);
    }

    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      drain(false);
    }
    buffer += decoder.decode();
    drain(true);
    // An event not closed by a blank line at the end of the stream is incomplete: drop it.
  }

  async function readQuietly(response, onEvent) {
    try {
      await readSSE(response, onEvent);
    } catch (_) { /* the connection dropped mid-stream; the caller decides what next */ }
  }

  /* Follow a request answered with an event stream. If the stream ends before finished() is
     true and reopen() names a URL to re-attach to, try again with backoff. Resolves to
     { error } when the server refused (an ApiError), otherwise to {}; never rejects. */
  async function followStream({ open, reopen, onEvent, finished, onStream, onRetrying, delays }) {
    const waits = delays || [1000, 2000, 4000, 8000, 15000];
    let response = null;
    try { response = await open(); } catch (_) { response = null; }
    if (response && !response.ok) return { error: await errorFromResponse(response) };
    if (response && !(response.headers.get('content-type') || '').includes('text/event-stream')) {
      return { error: new ApiError('The server sent an unexpected answer. Please try again.', { status: 500 }) };
    }
    if (response) {
      if (onStream) onStream();
      await readQuietly(response, onEvent);
    }
    for (let i = 0; i < waits.length && !finished(); i += 1) {
      const url = reopen();
      if (!url) break;
      if (onRetrying) onRetrying(i);
      await sleep(waits[i]);
      try {
        response = await fetch(url, { headers: { Accept: 'text/event-stream' }, credentials: 'same-origin' });
      } catch (_) { continue; }
      if (response.ok) {
        if (onStream) onStream();
        await readQuietly(response, onEvent);
      } else if (response.status < 500 && response.status !== 429) {
        return { error: await errorFromResponse(response) };
      }
    }
    return {};
  }

  function errorTarget(target) {
    if (target instanceof Element) return target;
    return document.getElementById('error-alert');
  }

  function showError(message, target) {
    const el = errorTarget(target);
    const text = message instanceof Error ? message.message : String(message || 'Something went wrong.');
    if (!el) {
      console.error(text);
      return;
    }
    el.textContent = '';
    // A fresh text node makes screen readers announce repeated messages too.
    el.appendChild(document.createTextNode(text));
    el.classList.add('alert--visible');
  }

  function clearError(target) {
    const el = errorTarget(target);
    if (!el) return;
    el.textContent = '';
    el.classList.remove('alert--visible');
  }

  /* Polite announcement: clear first so an identical message is still read out. */
  function announce(text, target) {
    const el = target || document.getElementById('live-region');
    if (!el) return;
    el.textContent = '';
    window.setTimeout(() => {
      el.textContent = text;
    }, 60);
  }

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' + hex.slice(16, 20) + '-' + hex.slice(20);
  }

  /* Small DOM builder: el('p', 'class-name', 'text', otherNode, ...). Strings always go in as
     text nodes, so text from people or models can never become markup. */
  function el(tag, className, ...children) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    children.forEach((child) => {
      if (child === undefined || child === null || child === '' || child === false) return;
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    });
    return node;
  }

  /* Drafts kept in localStorage; storage may be unavailable (private mode, quota). */
  const drafts = {
    load(key) {
      try { return window.localStorage.getItem(key) || ''; } catch (_) { return ''; }
    },
    save(key, text) {
      try {
        if (text) window.localStorage.setItem(key, text);
        else window.localStorage.removeItem(key);
      } catch (_) { /* nothing to keep it in */ }
    },
  };

  /* ---- critique of one trainee turn ---- */
  const DIMENSIONS = [
    ['recognition', 'Recognition'], ['authenticity', 'Authenticity'], ['collaboration', 'Collaboration'],
    ['power_awareness', 'Noticing power'], ['boundaries', 'Boundaries'],
  ];
  const BALANCE = new Map([
    [-2, 'Directing/fixing'], [-1, 'Leaning towards directing'], [0, 'Balanced'],
    [1, 'Leaning towards mirroring'], [2, 'Only mirroring'],
  ]);
  const MARKERS = {
    defer: 'Client was deferring', flatter: 'Client was flattering you', challenge: 'Client was challenging you',
    test: 'Client was testing you', resist: 'Client was resisting', withdraw: 'Client was withdrawing',
    confront: 'Client was confronting you', boundary_probe: 'Client was probing a boundary',
  };
  const SOURCES = { llm: 'AI judge', offline: 'Offline judge (rules)', offline_fallback: 'Offline judge (AI judge unavailable)' };

  function own(table, key) {
    return typeof key === 'string' && Object.prototype.hasOwnProperty.call(table, key) ? table[key] : '';
  }

  function quote(className, text) {
    return text ? el('blockquote', className, el('p', '', text)) : null;
  }

  function section(heading, className, ...children) {
    return el('section', 'critique__section ' + className, el('h4', 'critique__subhead', heading), ...children);
  }

  function dimension(label, r) {
    if (!r || typeof r !== 'object') return null;
    const applicable = r.applicable !== false && typeof r.score === 'number';
    const score = el('span', 'dim__score');
    if (applicable) {
      const n = Math.max(0, Math.min(3, Math.round(r.score)));
      const pips = el('span', 'pips pips--' + n, el('span', 'pip'), el('span', 'pip'), el('span', 'pip'));
      pips.setAttribute('aria-hidden', 'true');
      score.append(pips, n + ' / 3');
    } else {
      score.append('Not applicable');
    }
    return el('div', applicable ? 'dim' : 'dim dim--na',
      el('dt', 'dim__name', label),
      el('dd', 'dim__body', score, r.reason ? el('p', 'dim__reason', r.reason) : null, quote('dim__evidence', r.evidence)));
  }

  /* Build the critique as a fragment of elements; every model-written string is a text node. */
  function renderCritique(c) {
    const frag = document.createDocumentFragment();
    if (!c || typeof c !== 'object') return frag;
    frag.appendChild(el('p', 'critique__source', own(SOURCES, c.source) || 'Judge',
      c.judge ? el('span', 'critique__judge', ' · ' + c.judge) : null));
    frag.appendChild(section('What the moment called for', 'critique__moment', el('p', 'critique__text', c.moment)));
    frag.appendChild(section('What went well', 'critique__went-well', el('p', 'critique__text', c.went_well)));
    const dims = el('dl', 'dims', ...DIMENSIONS.map(([key, label]) => dimension(label, c[key])));
    frag.appendChild(section('Alliance dimensions', 'critique__dims', dims));
    const facts = el('ul', 'critique__facts',
      BALANCE.has(c.direction_balance) ? el('li', 'critique__balance', 'Direction: ' + BALANCE.get(c.direction_balance)) : null,
      own(MARKERS, c.client_marker) ? el('li', 'critique__marker', own(MARKERS, c.client_marker)) : null,
      c.repair_landed === true ? el('li', 'critique__repair', 'Your repair seemed to land') : null,
      c.repair_landed === false ? el('li', 'critique__repair', 'The repair may not have landed yet') : null);
    if (facts.childNodes.length) frag.appendChild(facts);
    frag.appendChild(section('You might try', 'critique__try',
      c.suggestion ? el('p', 'critique__text', c.suggestion) : null, quote('critique__alternative', c.alternative_wording)));
    return frag;
  }

  function sleep(ms) {
    return new Promise((resolve) => window.setTimeout(resolve, ms));
  }

  function initSignOut() {
    const button = document.getElementById('sign-out');
    if (!button) return;
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const body = await postJSON('/api/auth/logout', {});
        // The institution's sign-out page, when it has one; home otherwise.
        window.location.assign(body && typeof body.redirect === 'string' ? body.redirect : '/');
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) {
          window.location.assign('/');
          return;
        }
        button.disabled = false;
        showError(err instanceof ApiError && err.kind === 'network'
          ? 'Connection lost — could not sign out. Please try again.'
          : err);
      }
    });
  }

  window.Alliance = Object.freeze({
    ApiError,
    NETWORK_MESSAGE,
    csrfToken,
    setCsrfToken,
    errorFromResponse,
    jsonHeaders,
    request,
    postJSON,
    getJSON,
    readSSE,
    followStream,
    showError,
    clearError,
    announce,
    uuid,
    el,
    sleep,
    drafts,
    renderCritique,
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', initSignOut);
  else initSignOut();
})();
