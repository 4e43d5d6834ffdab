/* Sign-in page: local development sign-in by name. */
(function () {
  'use strict';
  const A = window.Alliance;
  const form = document.getElementById('signin-form');
  const input = document.getElementById('name-input');
  const button = document.getElementById('signin-button');
  if (!A || !form || !input) return;

  let busy = false;

  function setBusy(value) {
    busy = value;
    if (button) button.disabled = value;
    form.setAttribute('aria-busy', value ? 'true' : 'false');
  }

  function fail(message) {
    input.setAttribute('aria-invalid', 'true');
    A.showError(message);
    input.focus();
  }

  input.addEventListener('input', () => {
    input.removeAttribute('aria-invalid');
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    const name = input.value.trim();
    if (!name) {
      fail('Please enter your name.');
      return;
    }
    if (name.length > 80) {
      fail('Please use at most 80 characters for your name.');
      return;
    }
    A.clearError();
    setBusy(true);
    try {
      const role = document.getElementById('role-input');
      const cohort = document.getElementById('cohort-input');
      const body = await A.postJSON('/api/auth/dev', {
        name,
        role: role ? role.value : 'trainee',
        cohort: cohort && cohort.value.trim() ? cohort.value.trim() : null,
      });
      if (body && typeof body.csrf_token === 'string') A.setCsrfToken(body.csrf_token);
      window.location.assign('/practice');
    } catch (err) {
      setBusy(false);
      if (err instanceof A.ApiError && err.kind === 'network') {
        A.showError('Connection lost — could not sign in. Please try again.');
      } else {
        fail(err instanceof Error ? err.message : 'Sign-in did not work. Please try again.');
      }
    }
  });
})();
