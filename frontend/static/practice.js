/* Client choice page: start a session with the chosen persona. */
(function () {
  'use strict';
  const A = window.Alliance;
  if (!A) return;
  const buttons = Array.from(document.querySelectorAll('button.start-session[data-persona-id]'));
  let busy = false;

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

  buttons.forEach((button) => {
    button.addEventListener('click', () => {
      start(button).catch((err) => A.showError(err));
    });
  });
})();
