/* Session page: streaming client replies, per-turn critiques, the composer, and the shown path
   through the conversation tree (exchange.js holds the tree and the drawing helpers). The
   controls (pause, end, hint, hidden notes) live in session-controls.js via window.AllianceRoom. */
(function () {
  'use strict';
  const A = window.Alliance;
  const X = window.AllianceExchange;
  const root = document.getElementById('session-root');
  const transcript = document.getElementById('transcript');
  const form = document.getElementById('composer');
  const input = document.getElementById('composer-input');
  const sendButton = document.getElementById('send-button');
  const statusLine = document.getElementById('composer-status');
  const clock = document.getElementById('session-clock');
  const clockState = document.getElementById('clock-state');
  const branchNote = document.getElementById('branch-note');
  const branchText = document.getElementById('branch-text');
  const exchangeTemplate = document.getElementById('exchange-template');
  const openingTemplate = document.getElementById('opening-template');
  if (!A || !X || !root || !transcript || !form || !input || !exchangeTemplate || !openingTemplate) return;

  const sessionId = root.getAttribute('data-session-id') || '';
  const clientName = root.getAttribute('data-client-name') || 'Client';
  const apiBase = '/api/sessions/' + encodeURIComponent(sessionId);
  const draftKey = 'alliance:draft:' + sessionId;
  const PENDING_NOTE = 'Notes on this turn will appear after the client replies.';
  const state = Object.assign(X.conversation(), {
    planned: parseInt(root.getAttribute('data-planned-minutes'), 10) || 0,
    status: root.getAttribute('data-status') || 'active', loaded: false, opening: '',
    turns: new Map(), count: 0, blocking: 0, unsent: null, listeners: [],
  });
  const { keyOf, statusOf } = X;

  /* ---- composer, status, clock ---- */
  const saveDraft = () => A.drafts.save(draftKey, input.value);
  const setStatus = (text) => { if (statusLine) statusLine.textContent = text || ''; };
  const turnUrl = (turnId, tail) => apiBase + '/turns/' + encodeURIComponent(turnId) + tail;
  const post = (url, body) => fetch(url, { method: 'POST', headers: A.jsonHeaders({ Accept: 'text/event-stream' }), body, credentials: 'same-origin' });
  const events = (turnId) => fetch(turnUrl(turnId, '/events'), { headers: { Accept: 'text/event-stream' }, credentials: 'same-origin' });
  const open = () => state.status === 'active' && state.loaded;

  function refreshControls() {
    const busy = state.blocking > 0;
    if (sendButton) sendButton.disabled = busy || !open();
    input.readOnly = state.status === 'ended';
    form.classList.toggle('composer--busy', busy);
    transcript.querySelectorAll('.retry-button, .redo-button, .branch-prev, .branch-next').forEach((b) => { b.disabled = busy; });
    transcript.querySelectorAll('.branch-nav').forEach((nav) => {
      const [i, n] = [Number(nav.getAttribute('data-index')), Number(nav.getAttribute('data-count'))];
      nav.querySelector('.branch-prev').disabled = busy || i <= 0;
      nav.querySelector('.branch-next').disabled = busy || i >= n - 1;
    });
    state.listeners.forEach((fn) => fn());
  }
  function setBlocking(delta) {
    state.blocking = Math.max(0, state.blocking + delta);
    if (state.blocking === 0) setStatus('');
    refreshControls();
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
  function clockFromPath() {
    const done = state.path.map((id) => state.nodes.get(id)).filter((n) => n && n.reply_status === 'complete');
    updateClock(done.length ? Number(done[done.length - 1].minutes_elapsed) : 0, state.planned);
  }

  /* active → paused → active …, then ended: what the page allows follows the server's status. */
  function applyStatus(status) {
    state.status = status;
    root.setAttribute('data-status', status);
    if (clockState) clockState.textContent = status === 'paused' ? ' · paused' : status === 'ended' ? ' · ended' : '';
    const paused = document.getElementById('paused-note');
    if (paused) paused.hidden = status !== 'paused';
    form.hidden = status === 'ended';
    const over = document.getElementById('session-over');
    if (over) over.hidden = status !== 'ended';
    if (status === 'ended') { state.branchFrom = null; showBranchNote(); }
    refreshControls();
  }

  const { nearBottom, scrollToEnd, setReplyStatus, setReplyText, cancelScheduled, resetStream, onDelta,
    clearTurnError, critiqueNote, critiqueFailed, showCritique } = X;
  const showTurnError = (view, text, retryable) => X.showTurnError(view, text, retryable, state.blocking > 0);
  const { addNode, computePath, chooseAlong, shownPath, lastShown } = state;

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

  function createExchange(turnId, traineeText, parentKey) {
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
      li, number, parentKey, traineeNode: nodes[0], replyNode: nodes[1], problem: part('.turn-error'),
      problemText: part('.turn-error__text'), retryButton: part('.retry-button'), critique: part('.critique'),
      critiqueBody: part('.critique__body'), nav: part('.branch-nav'), turnId: null, replyText: '', base: '',
      acc: '', frame: 0, pendingText: null, hasCritique: false, critiqueFailed: false,
    };
    view.retryButton.setAttribute('aria-describedby', view.problemText.id);
    view.retryButton.addEventListener('click', () => retry(view));
    const redo = part('.redo-button');
    redo.querySelector('.redo-button__which').textContent = ' (your turn ' + number + ')';
    redo.addEventListener('click', () => startBranch(view));
    part('.branch-prev').addEventListener('click', () => switchBranch(view, -1));
    part('.branch-next').addEventListener('click', () => switchBranch(view, 1));
    if (turnId !== null && turnId !== undefined) assignId(view, turnId);
    transcript.appendChild(li);
    return view;
  }

  function assignId(view, turnId) {
    view.turnId = String(turnId);
    view.li.setAttribute('data-turn-id', view.turnId);
    state.turns.set(view.turnId, view);
    refreshSwitcher(view);
  }
  function removeView(view) {
    view.li.remove();
    if (view.turnId) state.turns.delete(view.turnId);
    if (view.number === state.count) state.count -= 1;
  }

  /* "2 of 3" at a fork: the versions of this turn, oldest first. */
  function refreshSwitcher(view) {
    const kids = state.kids.get(view.parentKey) || [];
    const index = view.turnId ? kids.indexOf(view.turnId) : -1;
    view.nav.hidden = kids.length < 2 || index < 0;
    if (view.nav.hidden) return;
    view.nav.setAttribute('data-index', String(index));
    view.nav.setAttribute('data-count', String(kids.length));
    view.nav.setAttribute('role', 'group');
    view.nav.setAttribute('aria-label', 'Versions of your turn ' + view.number);
    view.nav.querySelector('.branch-nav__pos').textContent = 'Version ' + (index + 1) + ' of ' + kids.length;
    refreshControls();
  }


  /* ---- server events: each updates the tree, and the turn's view when it is shown ---- */
  function viewFor(ctx, data) {
    const id = data.turn_id !== undefined && data.turn_id !== null ? String(data.turn_id) : null;
    if (id && state.turns.has(id)) return state.turns.get(id);
    if (ctx.view && (!id || !ctx.view.turnId || ctx.view.turnId === id)) return ctx.view;
    return null;
  }
  const nodeFor = (ctx, data) => state.nodes.get(String(data.turn_id !== undefined && data.turn_id !== null ? data.turn_id : ctx.turnId));

  function onTurn(ctx, data) {
    if (data.turn_id === undefined || data.turn_id === null) return;
    const id = String(data.turn_id);
    addNode({ id, parent_id: data.parent_id === undefined ? ctx.parentId : data.parent_id, trainee_text: data.trainee_text, created_at: data.created_at });
    let view = state.turns.get(id);
    if (view && ctx.view && view !== ctx.view && !ctx.view.turnId) removeView(ctx.view); // already shown
    if (!view) {
      view = ctx.view || createExchange(null, '', ctx.parentKey || '');
      assignId(view, id);
      if (!statusOf(view)) setReplyStatus(view, 'pending');
    }
    if (typeof data.trainee_text === 'string' && data.trainee_text) view.traineeNode.data = data.trainee_text;
    ctx.view = view;
    ctx.turnId = id;
    if (ctx.kind === 'send') {
      chooseAlong(id);
      computePath();
      if (state.branchFrom) { state.branchFrom = null; showBranchNote(); }
      transcript.querySelectorAll('li.exchange[data-turn-id]').forEach((li) => {
        const v = state.turns.get(li.getAttribute('data-turn-id'));
        if (v) refreshSwitcher(v);
      });
      state.unsent = null;
      saveDraft(); // the sent text left the composer on send; keep only what is there now
    }
  }

  function onReply(ctx, view, data) {
    const node = nodeFor(ctx, data);
    if (node) Object.assign(node, { reply: data.text, reply_status: 'complete', error: null, minutes_elapsed: Number(data.minutes_elapsed) });
    if (!view) return;
    cancelScheduled(view);
    const stick = nearBottom();
    if (typeof data.text === 'string') setReplyText(view, data.text);
    clearTurnError(view);
    setReplyStatus(view, 'complete');
    if (view.li.isConnected) updateClock(Number(data.minutes_elapsed), Number(data.planned_minutes));
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
    const node = nodeFor(ctx, data);
    if (!ctx.quiet) A.showError(text);
    const view = viewFor(ctx, data);
    if (data.stage === 'critique') {
      if (node) node.critique_error = text;
      if (view) critiqueFailed(view, text);
      return;
    }
    if (node) Object.assign(node, { reply_status: 'failed', error: { message: text, retryable: Boolean(data.retryable) } });
    if (!view) return;
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
    if (name === 'reply') return onReply(ctx, view, data);
    if (name === 'critique') {
      const node = nodeFor(ctx, data);
      if (node) node.critique = data.critique;
      if (view) showCritique(view, data.critique);
    } else if (view && name === 'delta' && typeof data.text === 'string') onDelta(view, data.text);
    return undefined;
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

  async function runExchange(ctx, opener) {
    if (ctx.blocking) setBlocking(1);
    try {
      const result = await A.followStream({
        open: opener,
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
    if (state.status === 'paused') { setStatus('The session is paused — resume it to send. Your text is kept.'); return; }
    if (!open()) return;
    if (!text) { setStatus('Write your response first.'); input.focus(); return; }
    if (state.blocking > 0) { setStatus('Waiting for the client — your text is kept.'); return; }
    A.clearError();
    setStatus('');
    const parentId = lastShown();
    // Re-sending the same text after a lost connection reuses the key, so it is stored once.
    const reuse = state.unsent && state.unsent.text === raw && state.unsent.parentId === parentId;
    const key = reuse ? state.unsent.key : A.uuid();
    state.unsent = { text: raw, key, parentId };
    const view = createExchange(null, text, keyOf(parentId));
    setReplyStatus(view, 'pending');
    input.value = '';
    if (document.activeElement === sendButton) input.focus();
    scrollToEnd(); // show the new turn; the reply then keeps the view pinned to the end
    const ctx = { kind: 'send', view, text: raw, turnId: null, parentId, parentKey: keyOf(parentId), finished: false, blocking: true };
    const body = JSON.stringify({ text, idempotency_key: key, parent_id: parentId });
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

  /* ---- try it differently: write another version of a turn, from the same point ---- */
  function showBranchNote() {
    if (!branchNote) return;
    const view = state.branchFrom ? state.turns.get(state.branchFrom) : null;
    const number = view ? view.number : shownPath().length + 1;
    branchNote.hidden = !state.branchFrom;
    if (branchText) branchText.textContent = state.branchFrom ? 'Writing another version of your turn ' + number + '. The first version stays; you can switch between them.' : '';
  }
  function startBranch(view) {
    if (state.blocking > 0 || !view.turnId || !open()) return;
    state.branchFrom = view.turnId;
    const number = view.number;
    const original = view.traineeNode.data;
    render();
    showBranchNote();
    if (branchText) branchText.textContent = 'Writing another version of your turn ' + number + '. The first version stays; you can switch between them.';
    if (!input.value.trim()) { input.value = original; saveDraft(); }
    input.focus();
    input.select();
    A.announce('Write another version of your turn ' + number + '. The transcript now ends before it.');
  }
  function cancelBranch() {
    const id = state.branchFrom;
    state.branchFrom = null;
    render();
    showBranchNote();
    const view = id ? state.turns.get(id) : null;
    const button = view ? view.li.querySelector('.redo-button') : null;
    if (button) button.focus(); else input.focus();
  }
  function switchBranch(view, step) {
    if (state.blocking > 0) return;
    const kids = state.kids.get(view.parentKey) || [];
    const next = kids[kids.indexOf(view.turnId) + step];
    if (!next) return;
    const number = view.number;
    state.chosen.set(view.parentKey, next);
    state.branchFrom = null;
    computePath();
    render();
    showBranchNote();
    const shown = state.turns.get(next);
    if (shown) {
      const button = shown.li.querySelector(step < 0 ? '.branch-prev' : '.branch-next');
      (button && !button.disabled ? button : shown.li.querySelector('.branch-nav__pos')).focus();
    }
    A.announce('Showing version ' + (kids.indexOf(next) + 1) + ' of ' + kids.length + ' of your turn ' + number + '.');
  }

  /* ---- drawing the shown path from the tree ---- */
  function renderStoredTurn(node) {
    const view = createExchange(node.id, typeof node.trainee_text === 'string' ? node.trainee_text : '', keyOf(node.parent_id));
    const status = ['pending', 'streaming', 'complete', 'failed'].includes(node.reply_status) ? node.reply_status : 'complete';
    if (typeof node.reply === 'string') setReplyText(view, node.reply);
    setReplyStatus(view, status);
    if (node.critique) showCritique(view, node.critique);
    else if (node.critique_error) critiqueFailed(view, node.critique_error);
    const error = node.error && typeof node.error === 'object' ? node.error : null;
    if (status === 'failed') {
      showTurnError(view, (error && error.message) || 'The reply did not arrive.', Boolean(error && error.retryable));
    }
    return view;
  }
  function render() {
    transcript.replaceChildren();
    state.turns.clear();
    state.count = 0;
    renderOpening(state.opening);
    const views = shownPath().map((id) => renderStoredTurn(state.nodes.get(id)));
    views.forEach(refreshSwitcher);
    clockFromPath();
    refreshControls();
    return views;
  }

  async function load() {
    const [data, tree] = await Promise.all([A.getJSON(apiBase), A.getJSON(apiBase + '/turns')])
      .catch((err) => { A.showError(err); return [null, null]; });
    transcript.setAttribute('aria-busy', 'false');
    if (!data || typeof data !== 'object' || !tree || !Array.isArray(tree.turns)) {
      transcript.replaceChildren(A.el('li', 'exchange exchange--loading',
        A.el('p', 'muted', 'The session could not be loaded. Reload the page to try again.')));
      return; // Send stays disabled: there is nothing to reply to.
    }
    const planned = Number(data.planned_minutes);
    if (Number.isFinite(planned) && planned > 0) state.planned = planned;
    state.opening = typeof data.opening === 'string' ? data.opening : '';
    tree.turns.filter((t) => t && t.id !== undefined && t.id !== null).forEach(addNode);
    if (tree.latest_id) chooseAlong(String(tree.latest_id));
    computePath();
    state.loaded = true;
    const views = render();
    applyStatus(typeof tree.status === 'string' ? tree.status : state.status);
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
  const cancel = document.getElementById('branch-cancel');
  if (cancel) cancel.addEventListener('click', cancelBranch);

  window.AllianceRoom = Object.freeze({
    sessionId, apiBase,
    status: () => state.status,
    busy: () => state.blocking > 0,
    loaded: () => state.loaded,
    lastTurnId: lastShown,
    lastReplyComplete: () => {
      const id = lastShown();
      const node = id ? state.nodes.get(id) : null;
      return !node || node.reply_status === 'complete';
    },
    applyStatus,
    onChange: (fn) => { state.listeners.push(fn); },
  });

  if (!input.value) input.value = A.drafts.load(draftKey);
  setBlocking(1); // until the session has loaded
  load().catch((err) => A.showError(err)).finally(() => setBlocking(-1));
})();
