/* Client choice page: filter the cards, confirm content warnings, start a session. */
(function () {
  'use strict';
  const A = window.Alliance;
  if (!A) return;
  const buttons = Array.from(document.querySelectorAll('button.start-session[data-persona-id]'));
  const items = Array.from(document.querySelectorAll('.persona-list__item'));
  const styleFilter = document.getElementById('filter-style');
  const levelFilter = document.getElementById('filter-difficulty');
  const count = document.getElementById('filter-count');
  const noMatch = document.getElementById('no-match');
  const dialog = document.getElementById('start-confirm');
  let busy = false;
  let chosen = null;

  /* ---- filters: plain selects, so keyboard and screen readers work as they do everywhere ---- */
  function applyFilters() {
    const style = styleFilter ? styleFilter.value : '';
    const level = levelFilter ? levelFilter.value : '';
    let shown = 0;
    items.forEach((item) => {
      const match = (!style || item.getAttribute('data-style') === style)
        && (!level || item.getAttribute('data-difficulty') === level);
      item.hidden = !match;
      if (match) shown += 1;
    });
    if (count) {
      count.textContent = shown === items.length
        ? 'Showing all ' + items.length + ' clients'
        : 'Showing ' + shown + ' of ' + items.length + ' clients';
    }
    if (noMatch) noMatch.hidden = shown > 0;
  }

  function setBusy(value, active) {
    busy = value;
    buttons.forEach((button) => {
      button.disabled = value;
      if (value && button === active) button.setAttribute('aria-busy', 'true');
      else button.removeAttribute('aria-busy');
    });
  }

  async function start(button) {
    if (busy) return;
    const personaId = button.getAttribute('data-persona-id');
    if (!personaId) return;
    A.clearError();
    setBusy(true, button);
    try {
      const session = await A.postJSON('/api/sessions', { persona_id: personaId });
      const id = session && session.id !== undefined && session.id !== null ? String(session.id) : '';
      if (!id) throw new A.ApiError('The session could not be started. Please try again.');
      window.location.assign('/sessions/' + encodeURIComponent(id));
    } catch (err) {
      setBusy(false);
      if (err instanceof A.ApiError && err.status === 401) {
        A.showError('Your sign-in has expired. Please sign in again.');
      } else if (err instanceof A.ApiError && err.kind === 'network') {
        A.showError('Connection lost — the session was not started. Please try again.');
      } else {
        A.showError(err);
      }
      button.focus();
    }
  }

  /* ---- the confirm step lists the content warnings before anything starts ---- */
  function confirmStart(button) {
    if (busy) return;
    if (!dialog || typeof dialog.showModal !== 'function') {
      start(button).catch((err) => A.showError(err));
      return;
    }
    chosen = button;
    const card = button.closest('.persona-card');
    const name = button.getAttribute('data-persona-name') || 'this client';
    const warnings = card ? Array.from(card.querySelectorAll('.content-warnings__list li'), (li) => li.textContent) : [];
    document.getElementById('start-confirm-who').textContent = 'You are about to start a practice session with ' + name + '.';
    const list = document.getElementById('start-confirm-warnings');
    list.replaceChildren(...(warnings.length ? warnings : ['None listed']).map((w) => A.el('li', '', w)));
    dialog.returnValue = '';
    dialog.showModal();
    document.getElementById('start-confirm-go').focus();
  }

  if (dialog) {
    dialog.addEventListener('close', () => {
      const button = chosen;
      chosen = null;
      if (!button) return;
      if (dialog.returnValue === 'start') start(button).catch((err) => A.showError(err));
      else button.focus();
    });
  }
  buttons.forEach((button) => button.addEventListener('click', () => confirmStart(button)));
  [styleFilter, levelFilter].forEach((select) => { if (select) select.addEventListener('change', applyFilters); });
  applyFilters();
})();
