/* Your data: links to tutor feedback, export, deletion; the audit log for admins. */
(function () {
  'use strict';
  const A = window.Alliance;
  const root = document.getElementById('account-page');
  if (!A || !root) return;
  const el = A.el;
  const when = (iso) => new Date(iso).toLocaleString();

  function rows(tbody, list) {
    tbody.replaceChildren(...list.map((cells) => el('tr', null, ...cells.map((c) => el('td', null, c)))));
  }

  async function start() {
    try {
      const sessions = await A.getJSON('/api/sessions');
      rows(document.querySelector('#my-sessions tbody'), sessions.map((s) => {
        const link = el('a', null, 'Feedback');
        link.href = `/tutor/sessions/${encodeURIComponent(s.id)}`;
        return [when(s.created_at), s.persona_name, String(s.turns), link];
      }));
      const audit = document.getElementById('audit-table');
      if (audit) {
        const entries = await A.getJSON('/api/admin/audit');
        rows(audit.querySelector('tbody'), entries.map((e) => [when(e.at), e.reader || e.reader_id, e.reader_role,
          e.owner || e.owner_id, e.session_id, e.action]));
      }
    } catch (err) {
      A.showError(err);
    }
  }

  document.getElementById('delete-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!document.getElementById('delete-confirm').checked) {
      A.showError('Tick the box to confirm that everything should be deleted.');
      return;
    }
    const button = document.getElementById('delete-button');
    button.disabled = true;
    try {
      const response = await A.request('/api/me', {
        method: 'DELETE', headers: A.jsonHeaders(), body: JSON.stringify({ confirm: true }),
      });
      if (!response.ok) throw await A.errorFromResponse(response);
      window.location.assign('/');
    } catch (err) {
      button.disabled = false;
      A.showError(err);
    }
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
