/* Session page: transcript, streaming client replies, per-turn critiques, composer. */
(function () {
  'use strict';
  const A = window.Alliance;
  const root = document.getElementById('session-root');
  const transcript = document.getElementById('transcript');
  const form = document.getElementById('composer');
  const input = document.getElementById('composer-input');
  const sendButton = document.getElementById('send-button');
  const statusLine = document.getElementById('composer-status');
  const clock = document.getElementById('session-clock');
  const exchangeTemplate = document.getElementById('exchange-template');
  const openingTemplate = document.getElementById('opening-template');
  if (!A || !root || !transcript || !form || !input || !exchangeTemplate || !openingTemplate) return;

  const sessionId = root.getAttribute('data-session-id') || '';
  const clientName = root.getAttribute('data-client-name') || 'Client';
  const apiBase = '/api/sessions/' + encodeURIComponent(sessionId);
  const draftKey = 'alliance:draft:' + sessionId;
  const PENDING_NOTE = 'Notes on this turn will appear after the client replies.';
  const state = {
    planned: parseInt(root.getAttribute('data-planned-minutes'), 10) || 0,
    lastTurnId: null, turns: new Map(), count: 0, blocking: 0, unsent: null,
  };

  /* ---- composer, status, clock ---- */
  const saveDraft = () => A.drafts.save(draftKey, input.value);
  const setStatus = (text) => { if (statusLine) statusLine.textContent = text || ''; };
  const turnUrl = (turnId, tail) => apiBase + '/turns/' + encodeURIComponent(turnId) + tail;
  const post = (url, body) => fetch(url, { method: 'POST', headers: A.jsonHeaders({ Accept: 'text/event-stream' }), body, credentials: 'same-origin' });
  const events = (turnId) => fetch(turnUrl(turnId, '/events'), { headers: { Accept: 'text/event-stream' }, credentials: 'same-origin' });
  const statusOf = (view) => view.li.getAttribute('data-reply-status');

  function setBlocking(delta) {
    state.blocking = Math.max(0, state.blocking + delta);
    const busy = state.blocking > 0;
    if (sendButton) sendButton.disabled = busy;
    form.classList.toggle('composer--busy', busy);
    transcript.querySelectorAll('.retry-button').forEach((b) => { b.disabled = busy; });
    if (!busy) setStatus('');
  }

  /* The turn was not stored: drop its bubble and put the text back, keeping anything typed since. */
  function giveBack(ctx, message) {
    A.showError(message);
    if (ctx.view && !ctx.view.turnId) removeView(ctx.view);
    const current = input.value;
    if (ctx.text && current !== ctx.text) input.value = current.trim() ? ctx.text + '\n\n' + current : ctx.text;
    saveDraft();
    input.focus();
  }

  function updateClock(elapsed, planned) {
    if (Number.isFinite(planned) && planned > 0) state.planned = planned;
    if (!clock) return;
    const mins = Number.isFinite(elapsed) ? Math.max(0, Math.floor(elapsed)) : null;
    clock.textContent = (mins === null ? '–' : String(mins)) + ' of ' + state.planned + ' min';
    clock.setAttribute('data-minutes-elapsed', mins === null ? '' : String(elapsed));
    clock.classList.toggle('clock--over', mins !== null && state.planned > 0 && mins >= state.planned);
  }

  const nearBottom = () => window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 200;
  const scrollToEnd = () => window.scrollTo(0, document.documentElement.scrollHeight);
  /* ---- transcript (markup lives in the page's <template> elements) ---- */
  function fromTemplate(template) {
    const li = template.content.firstElementChild.cloneNode(true);
    const nodes = Array.from(li.querySelectorAll('.msg__text'), (p) => p.appendChild(document.createTextNode('')));
    return { li, nodes, part: (selector) => li.querySelector(selector) };
  }

  function renderOpening(text) {
    const { li, nodes } = fromTemplate(openingTemplate);
    if (text) nodes[0].data = text;
    else li.querySelector('.msg').remove();
    transcript.appendChild(li);
  }

  function createExchange(turnId, traineeText) {
    const number = ++state.count;
    const { li, nodes, part } = fromTemplate(exchangeTemplate);
    nodes[0].data = traineeText || '';
    const title = part('.critique__title');
    title.textContent = 'Notes on your turn ' + number;
    title.id = 'critique-title-' + number;
    part('.critique').setAttribute('aria-labelledby', title.id);
    part('.turn-error__text').id = 'turn-error-' + number;
    li.setAttribute('data-turn-number', String(number));
    const view = {
      li, number, traineeNode: nodes[0], replyNode: nodes[1], problem: part('.turn-error'),
      problemText: part('.turn-error__text'), retryButton: part('.retry-button'), critique: part('.critique'),
      critiqueBody: part('.critique__body'), turnId: null, replyText: '', base: '', acc: '', frame: 0,
      pendingText: null, hasCritique: false, critiqueFailed: false,
    };
    view.retryButton.setAttribute('aria-describedby', view.problemText.id);
    view.retryButton.addEventListener('click', () => retry(view));
    if (turnId !== null && turnId !== undefined) assignId(view, turnId);
    transcript.appendChild(li);
    return view;
  }

  function assignId(view, turnId) {
    view.turnId = String(turnId);
    view.li.setAttribute('data-turn-id', view.turnId);
    state.turns.set(view.turnId, view);
  }
  function removeView(view) {
    view.li.remove();
    if (view.turnId) state.turns.delete(view.turnId);
    if (view.number === state.count) state.count -= 1;
  }

  // The typing indicator shows through CSS while the status is pending/streaming and no text has come.
  const setReplyStatus = (view, status) => view.li.setAttribute('data-reply-status', status);
  function setReplyText(view, text) {
    view.replyText = text;
    view.replyNode.data = text;
  }
  function cancelScheduled(view) {
    if (view.frame) window.cancelAnimationFrame(view.frame);
    view.frame = 0;
    view.pendingText = null;
  }
  function resetStream(view) {
    if (!view) return;
    cancelScheduled(view);
    view.base = view.replyText;
    view.acc = '';
  }

  /* A re-attached stream may start again from the first delta: never show text twice. */
  function onDelta(view, text) {
    view.acc += text;
    const b = view.base;
    let shown = view.acc;
    if (b && b.startsWith(view.acc)) shown = b;
    else if (b && !view.acc.startsWith(b)) shown = b + view.acc;
    view.pendingText = shown;
    if (statusOf(view) !== 'streaming') setReplyStatus(view, 'streaming');
    if (view.frame) return;
    view.frame = window.requestAnimationFrame(() => {
      view.frame = 0;
      if (view.pendingText === null) return;
      const stick = nearBottom();
      setReplyText(view, view.pendingText);
      view.pendingText = null;
      if (stick) scrollToEnd();
    });
  }

  function showTurnError(view, text, retryable) {
    view.problemText.textContent = text;
    view.retryButton.hidden = !(retryable && view.turnId);
    view.retryButton.disabled = state.blocking > 0;
    view.problem.hidden = false;
  }
  const clearTurnError = (view) => { view.problem.hidden = true; };

  function setCritique(view, modifier, content) {
    view.critique.className = 'critique critique--' + modifier;
    view.critiqueBody.replaceChildren(content);
  }
  const critiqueNote = (view, modifier, text) =>
    setCritique(view, modifier, A.el('p', modifier === 'failed' ? 'critique__error' : 'critique__placeholder', text));
  function critiqueFailed(view, text) {
    view.critiqueFailed = true;
    critiqueNote(view, 'failed', 'The notes for this turn could not be written: ' + text);
  }
  function showCritique(view, critique) {
    if (!critique || typeof critique !== 'object') return;
    view.hasCritique = true;
    setCritique(view, 'ready', A.renderCritique(critique));
  }
  /* ---- server events ---- */
  function viewFor(ctx, data) {
    const id = data.turn_id !== undefined && data.turn_id !== null ? String(data.turn_id) : null;
    if (id && state.turns.has(id)) return state.turns.get(id);
    if (ctx.view && (!id || !ctx.view.turnId || ctx.view.turnId === id)) return ctx.view;
    return null;
  }

  function onTurn(ctx, data) {
    if (data.turn_id === undefined || data.turn_id === null) return;
    const id = String(data.turn_id);
    let view = state.turns.get(id);
    if (view && ctx.view && view !== ctx.view && !ctx.view.turnId) removeView(ctx.view); // already shown
    if (!view) {
      view = ctx.view || createExchange(null, '');
      assignId(view, id);
      if (!statusOf(view)) setReplyStatus(view, 'pending');
    }
    if (typeof data.trainee_text === 'string' && data.trainee_text) view.traineeNode.data = data.trainee_text;
    ctx.view = view;
    ctx.turnId = id;
    if (ctx.kind === 'send') {
      state.lastTurnId = id;
      state.unsent = null;
      saveDraft(); // the sent text left the composer on send; keep only what is there now
    }
  }

  function onReply(view, data) {
    cancelScheduled(view);
    const stick = nearBottom();
    if (typeof data.text === 'string') setReplyText(view, data.text);
    clearTurnError(view);
    setReplyStatus(view, 'complete');
    updateClock(Number(data.minutes_elapsed), Number(data.planned_minutes));
    A.announce(clientName + ': ' + view.replyText);
    if (stick) scrollToEnd();
  }

  function onError(ctx, data) {
    const text = typeof data.message === 'string' && data.message ? data.message : 'Something went wrong.';
    if (data.stage === 'turn') {
      ctx.finished = true;
      if (!data.retryable) state.unsent = null;
      if (ctx.kind === 'send') giveBack(ctx, text);
      else A.showError(text);
      return;
    }
    A.showError(text);
    const view = viewFor(ctx, data);
    if (!view) return;
    if (data.stage === 'critique') {
      critiqueFailed(view, text);
      return;
    }
    cancelScheduled(view);
    setReplyStatus(view, 'failed');
    showTurnError(view, text, Boolean(data.retryable));
  }

  function onDone(ctx, data) {
    ctx.finished = true;
    const view = viewFor(ctx, data);
    if (!view) return;
    if (['pending', 'streaming'].includes(statusOf(view))) {
      setReplyStatus(view, view.replyText ? 'complete' : 'failed');
      if (!view.replyText) showTurnError(view, 'The reply did not arrive.', true);
    }
    if (view.hasCritique || view.critiqueFailed) return;
    critiqueNote(view, 'empty', statusOf(view) === 'failed'
      ? 'Notes will be written once the client has replied.' : 'No notes were written for this turn.');
  }

  function handleEvent(ctx, name, data) {
    if (!data || typeof data !== 'object') return;
    if (name === 'turn') return onTurn(ctx, data);
    if (name === 'error') return onError(ctx, data);
    if (name === 'done') return onDone(ctx, data);
    const view = viewFor(ctx, data);
    if (view && name === 'delta' && typeof data.text === 'string') onDelta(view, data.text);
    else if (view && name === 'reply') onReply(view, data);
    else if (view && name === 'critique') showCritique(view, data.critique);
  }

  /* ---- requests answered with an event stream: send, retry, re-attach ---- */
  function quietEnd(ctx) { // a background wait for notes on a finished turn ends without alarm
    if (ctx.view && !ctx.view.hasCritique && !ctx.view.critiqueFailed) {
      critiqueNote(ctx.view, 'empty', 'No notes were written for this turn.');
    }
  }

  /* The exchange ended without `done`: refused (err) or connection lost (no err). */
  function ended(ctx, err) {
    if (ctx.quiet) return quietEnd(ctx);
    if (ctx.kind === 'send' && !ctx.turnId) { // the turn may not be stored: keep the text
      if (err && err.status < 500) state.unsent = null;
      return giveBack(ctx, err ? err.message : A.NETWORK_MESSAGE);
    }
    A.showError(err ? err.message : 'Connection lost. The reply may still be on its way: reload the page to see it.');
    if (ctx.view && !ctx.view.replyText) {
      setReplyStatus(ctx.view, 'failed');
      showTurnError(ctx.view, err ? err.message : 'Connection lost before the reply arrived.', true);
    }
    return undefined;
  }

  async function runExchange(ctx, open) {
    if (ctx.blocking) setBlocking(1);
    try {
      const result = await A.followStream({
        open,
        onEvent: (name, data) => handleEvent(ctx, name, data),
        finished: () => ctx.finished,
        reopen: () => (ctx.turnId ? turnUrl(ctx.turnId, '/events') : null),
        onStream: () => resetStream(ctx.view),
        onRetrying: () => { if (!ctx.quiet) setStatus('Connection interrupted — reconnecting…'); },
      });
      if (result.error || !ctx.finished) ended(ctx, result.error);
    } catch (err) {
      console.error(err);
      A.showError('Something went wrong. Reload the page to see the latest state of the session.');
    } finally {
      if (ctx.blocking) setBlocking(-1);
    }
  }

  function send() {
    const raw = input.value;
    const text = raw.trim();
    if (!text) { setStatus('Write your response first.'); input.focus(); return; }
    if (state.blocking > 0) { setStatus('Waiting for the client — your text is kept.'); return; }
    A.clearError();
    setStatus('');
    // Re-sending the same text after a lost connection reuses the key, so it is stored once.
    const key = state.unsent && state.unsent.text === raw ? state.unsent.key : A.uuid();
    state.unsent = { text: raw, key };
    const view = createExchange(null, text);
    setReplyStatus(view, 'pending');
    input.value = '';
    if (document.activeElement === sendButton) input.focus();
    scrollToEnd(); // show the new turn; the reply then keeps the view pinned to the end
    const ctx = { kind: 'send', view, text: raw, turnId: null, finished: false, blocking: true };
    const body = JSON.stringify({ text, idempotency_key: key, parent_id: state.lastTurnId });
    runExchange(ctx, () => post(apiBase + '/turns', body)).catch((err) => console.error(err));
  }

  function retry(view) {
    if (state.blocking > 0 || !view.turnId) return;
    A.clearError();
    clearTurnError(view);
    cancelScheduled(view);
    setReplyText(view, '');
    setReplyStatus(view, 'pending');
    if (!view.hasCritique) {
      view.critiqueFailed = false;
      critiqueNote(view, 'pending', PENDING_NOTE);
    }
    input.focus();
    const ctx = { kind: 'retry', view, turnId: view.turnId, finished: false, blocking: true };
    runExchange(ctx, () => post(turnUrl(view.turnId, '/retry'), '{}')).catch((err) => console.error(err));
  }

  function attach(view, blocking) {
    const ctx = { kind: 'attach', view, turnId: view.turnId, finished: false, blocking, quiet: !blocking };
    runExchange(ctx, () => events(view.turnId)).catch((err) => console.error(err));
  }

  /* ---- loading the session ---- */
  function renderStoredTurn(turn) {
    const view = createExchange(turn.id, typeof turn.trainee_text === 'string' ? turn.trainee_text : '');
    const status = ['pending', 'streaming', 'complete', 'failed'].includes(turn.reply_status) ? turn.reply_status : 'complete';
    if (typeof turn.reply === 'string') setReplyText(view, turn.reply);
    setReplyStatus(view, status);
    if (turn.critique) showCritique(view, turn.critique);
    const error = turn.error && typeof turn.error === 'object' ? turn.error : null;
    if (status === 'failed') {
      showTurnError(view, (error && error.message) || 'The reply did not arrive.', Boolean(error && error.retryable));
    } else if (error && error.message && !turn.critique && status === 'complete') {
      critiqueFailed(view, error.message);
    }
    return view;
  }

  async function load() {
    const data = await A.getJSON(apiBase).catch((err) => { A.showError(err); return null; });
    transcript.setAttribute('aria-busy', 'false');
    if (!data || typeof data !== 'object') {
      transcript.replaceChildren(A.el('li', 'exchange exchange--loading',
        A.el('p', 'muted', 'The session could not be loaded. Reload the page to try again.')));
      return; // Send stays disabled: there is nothing to reply to.
    }
    transcript.replaceChildren();
    const planned = Number(data.planned_minutes);
    if (Number.isFinite(planned) && planned > 0) state.planned = planned;
    renderOpening(typeof data.opening === 'string' ? data.opening : '');
    const turns = Array.isArray(data.turns) ? data.turns.filter((t) => t && t.id !== undefined && t.id !== null) : [];
    const views = turns.map(renderStoredTurn);
    const last = turns[turns.length - 1];
    let elapsed = Number(data.minutes_elapsed);
    if (!Number.isFinite(elapsed)) elapsed = last ? Number(last.minutes_elapsed) : 0;
    updateClock(elapsed, state.planned);
    if (views.length) state.lastTurnId = views[views.length - 1].turnId;
    setBlocking(-1);
    views.forEach((view, i) => {
      const status = statusOf(view);
      if (status === 'pending' || status === 'streaming') attach(view, true);
      else if (i === views.length - 1 && status === 'complete' && !view.hasCritique && !view.critiqueFailed) attach(view, false);
    });
    if (views.length) scrollToEnd();
  }

  /* ---- wiring ---- */
  input.addEventListener('keydown', (event) => { // Enter sends; Shift+Enter and IME composition do not
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    send();
  });
  input.addEventListener('input', () => { saveDraft(); if (state.blocking === 0) setStatus(''); });
  form.addEventListener('submit', (event) => { event.preventDefault(); send(); });

  if (!input.value) input.value = A.drafts.load(draftKey);
  setBlocking(1); // until the session has loaded
  load().catch((err) => A.showError(err));
})();
