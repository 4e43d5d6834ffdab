/* Session controls: pause and resume, end (with a confirm step), a hint on request, and hiding
   the notes until the session ends. The hide setting is kept per session in this browser's
   localStorage: it is the trainee's own choice, like a draft, and changes nothing on the server. */
(function () {
  'use strict';
  const A = window.Alliance;
  const R = window.AllianceRoom;
  const root = document.getElementById('session-root');
  if (!A || !R || !root) return;
  const pauseButton = document.getElementById('pause-button');
  const endButton = document.getElementById('end-session');
  const endDialog = document.getElementById('end-confirm');
  const hintButton = document.getElementById('hint-button');
  const hintPanel = document.getElementById('hint-panel');
  const hintText = document.getElementById('hint-text');
  const hintClose = document.getElementById('hint-close');
  const hideBox = document.getElementById('hide-critiques');
  const hideKey = 'alliance:hide-notes:' + R.sessionId;
  let working = false;

  function refresh() {
    const status = R.status();
    const ready = R.loaded() && !working;
    if (pauseButton) {
      pauseButton.hidden = status === 'ended';
      pauseButton.textContent = status === 'paused' ? 'Resume' : 'Pause';
      pauseButton.setAttribute('aria-pressed', status === 'paused' ? 'true' : 'false');
      pauseButton.disabled = !ready;
    }
    if (endButton) { endButton.hidden = status === 'ended'; endButton.disabled = !ready; }
    if (hintButton) hintButton.disabled = !ready || status !== 'active' || R.busy() || !R.lastReplyComplete();
    if (hintPanel && R.busy()) hintPanel.hidden = true; // a hint belongs to the moment it was asked for
    if (hideBox) {
      hideBox.disabled = status === 'ended';
      root.classList.toggle('session--notes-hidden', hideBox.checked && status !== 'ended');
    }
  }

  async function change(action, message) {
    if (working) return;
    working = true;
    refresh();
    A.clearError();
    try {
      const result = await A.postJSON(R.apiBase + '/' + action, {});
      R.applyStatus(result && typeof result.status === 'string' ? result.status : R.status());
      A.announce(message);
    } catch (err) {
      A.showError(err);
    } finally {
      working = false;
      refresh();
    }
  }

  if (pauseButton) {
    pauseButton.addEventListener('click', () => {
      if (R.status() === 'paused') {
        change('resume', 'Session resumed.').then(() => document.getElementById('composer-input').focus());
      } else {
        change('pause', 'Session paused. The clock has stopped.');
      }
    });
  }

  if (endButton) {
    endButton.addEventListener('click', () => {
      if (endDialog && typeof endDialog.showModal === 'function') {
        endDialog.returnValue = '';
        endDialog.showModal();
        document.getElementById('end-confirm-go').focus();
      } else {
        change('end', 'Session ended.');
      }
    });
  }
  if (endDialog) {
    endDialog.addEventListener('close', () => {
      if (endDialog.returnValue !== 'end') { if (endButton) endButton.focus(); return; }
      change('end', 'Session ended.').then(() => {
        const over = document.getElementById('session-over');
        if (over && !over.hidden) over.focus();
      });
    });
  }

  async function showHint() {
    if (!hintPanel || !hintText) return;
    A.clearError();
    const after = R.lastTurnId();
    const url = R.apiBase + '/hint' + (after ? '?after=' + encodeURIComponent(after) : '');
    hintButton.disabled = true;
    try {
      const result = await A.getJSON(url);
      hintText.textContent = result && typeof result.hint === 'string' ? result.hint : '';
      hintPanel.hidden = false;
      A.announce('Hint: ' + hintText.textContent);
      hintPanel.scrollIntoView({ block: 'nearest' });
    } catch (err) {
      A.showError(err);
    } finally {
      refresh();
    }
  }
  if (hintButton) hintButton.addEventListener('click', () => { showHint().catch((err) => A.showError(err)); });
  if (hintClose) {
    hintClose.addEventListener('click', () => {
      hintPanel.hidden = true;
      if (hintButton) hintButton.focus();
    });
  }

  if (hideBox) {
    hideBox.checked = A.drafts.load(hideKey) === 'yes';
    hideBox.addEventListener('change', () => {
      A.drafts.save(hideKey, hideBox.checked ? 'yes' : '');
      refresh();
      A.announce(hideBox.checked ? 'Notes are hidden until the session ends.' : 'Notes are shown.');
    });
  }
  R.onChange(refresh);
  refresh();
})();
