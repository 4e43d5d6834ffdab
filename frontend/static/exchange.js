/* The session page's building blocks that need no page state: the conversation tree (every
   "try it differently" is a sibling branch) and the helpers that draw one exchange. Loaded
   before session.js; exposed as window.AllianceExchange. */
(function () {
  'use strict';
  const A = window.Alliance;
  const keyOf = (parentId) => (parentId === null || parentId === undefined ? '' : String(parentId));
  const statusOf = (view) => view.li.getAttribute('data-reply-status');
  const nearBottom = () => window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 200;
  const scrollToEnd = () => window.scrollTo(0, document.documentElement.scrollHeight);

  /* ---- the tree: nodes by id, children in the order written, the chosen child at each fork ---- */
  function conversation() {
    const state = { nodes: new Map(), kids: new Map(), chosen: new Map(), path: [], branchFrom: null };
    function addNode(turn) {
      const id = String(turn.id);
      const known = state.nodes.get(id);
      if (known) return Object.assign(known, turn, { id });
      const node = Object.assign({ reply: null, reply_status: 'pending', critique: null, error: null }, turn, { id });
      state.nodes.set(id, node);
      const key = keyOf(node.parent_id);
      if (!state.kids.has(key)) state.kids.set(key, []);
      state.kids.get(key).push(id);
      return node;
    }
    function computePath() { // follow the chosen child at each fork, else the newest
      const path = [];
      let key = '';
      for (;;) {
        const kids = state.kids.get(key);
        if (!kids || !kids.length) break;
        const pick = state.chosen.get(key);
        const id = pick && kids.includes(pick) ? pick : kids[kids.length - 1];
        path.push(id);
        key = id;
      }
      state.path = path;
    }
    function chooseAlong(turnId) { // make the path to turnId the one shown
      let node = state.nodes.get(turnId);
      while (node) {
        state.chosen.set(keyOf(node.parent_id), node.id);
        node = node.parent_id ? state.nodes.get(String(node.parent_id)) : null;
      }
    }
    function shownPath() {
      if (!state.branchFrom) return state.path;
      const at = state.path.indexOf(state.branchFrom);
      return at < 0 ? state.path : state.path.slice(0, at);
    }
    const lastShown = () => { const p = shownPath(); return p.length ? p[p.length - 1] : null; };
    return Object.assign(state, { addNode, computePath, chooseAlong, shownPath, lastShown });
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

  function showTurnError(view, text, retryable, busy) {
    view.problemText.textContent = text;
    view.retryButton.hidden = !(retryable && view.turnId);
    view.retryButton.disabled = Boolean(busy);
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

  window.AllianceExchange = Object.freeze({
    keyOf, statusOf, nearBottom, scrollToEnd, conversation, setReplyStatus, setReplyText,
    cancelScheduled, resetStream, onDelta, showTurnError, clearTurnError, setCritique,
    critiqueNote, critiqueFailed, showCritique,
  });
})();
