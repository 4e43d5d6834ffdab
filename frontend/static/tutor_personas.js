/* Persona authoring: a YAML editor with every problem named, versions with diff and rollback,
   preview by chatting, publishing to cohorts, import and export. Text goes in as text only. */
(function () {
  'use strict';
  const A = window.Alliance;
  const root = document.getElementById('persona-authoring');
  if (!A || !root) return;
  const el = A.el;
  const $ = (id) => document.getElementById(id);
  const yamlInput = $('yaml-input');
  let current = null; // the open persona's detail, or null for a new one
  let cohorts = [];

  async function send(method, url, body) {
    const response = await A.request(url, {
      method, headers: A.jsonHeaders(), body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 422) {
      const data = await response.json().catch(() => null);
      if (data && Array.isArray(data.problems)) {
        showProblems(data.problems);
        return null;
      }
      throw new A.ApiError((data && data.detail) || 'That was not accepted.', { status: 422, kind: 'invalid_input' });
    }
    if (!response.ok) throw await A.errorFromResponse(response);
    return response.json();
  }

  function showProblems(problems) {
    $('check-result').textContent = `${problems.length} problem${problems.length === 1 ? '' : 's'} to fix:`;
    $('problems').replaceChildren(...problems.map((p) => el('li', null, el('strong', null, p.field + ': '), p.fix)));
  }

  function clearProblems(message) {
    $('check-result').textContent = message || '';
    $('problems').replaceChildren();
  }

  async function loadList() {
    const rows = await A.getJSON('/api/authoring/personas');
    const names = new Map(cohorts.map((c) => [c.id, c.name]));
    $('persona-table').querySelector('tbody').replaceChildren(...rows.map((p) => {
      const open = el('button', 'button button--small', 'Open');
      open.type = 'button';
      open.addEventListener('click', () => openPersona(p.id));
      const published = Object.entries(p.published).map(([c, v]) => `${names.get(c) || c} (v${v})`).join(', ') || '—';
      return el('tr', null, el('td', null, p.id), el('td', null, p.name), el('td', null, String(p.latest)),
        el('td', null, published), el('td', null, open));
    }));
  }

  function show(detail) {
    current = detail;
    yamlInput.value = detail.yaml;
    $('editing-label').textContent = `— ${detail.id}, version ${detail.latest}`;
    $('save-button').textContent = 'Save as a new version';
    $('versions-panel').hidden = false;
    $('diff-output').hidden = true;
    const tbody = $('version-table').querySelector('tbody');
    tbody.replaceChildren(...detail.versions.slice().reverse().map((v) => {
      const actions = el('td', null);
      const exportLink = el('a', null, 'Export');
      exportLink.href = `/api/authoring/personas/${encodeURIComponent(detail.id)}/versions/${v.version}.yaml`;
      actions.append(exportLink, ' ');
      if (v.version !== detail.latest) {
        actions.append(button('Compare with latest', () => compare(v.version, detail.latest)), ' ',
          button('Roll back to this', () => rollback(v.version)), ' ');
      }
      actions.append(button('Chat with it', () => preview(v.version)));
      return el('tr', null, el('td', null, String(v.version)), el('td', null, new Date(v.created_at).toLocaleString()),
        el('td', null, v.note || ''), actions);
    }));
    const select = $('publish-version');
    select.replaceChildren(...detail.versions.slice().reverse().map((v) => {
      const o = el('option', null, `Version ${v.version}`); o.value = String(v.version); return o;
    }));
    const box = $('publish-cohorts');
    box.replaceChildren(el('legend', null, 'To these cohorts'), ...cohorts.map((c) => {
      const input = el('input');
      input.type = 'checkbox';
      input.value = c.id;
      input.id = `cohort-${c.id}`;
      input.checked = c.id in detail.published;
      const label = el('label', null, input, ` ${c.name}`);
      return label;
    }));
    if (!cohorts.length) box.appendChild(el('p', 'hint', 'You belong to no cohort yet, so there is nobody to publish to.'));
  }

  function button(text, onClick) {
    const b = el('button', 'button button--small button--quiet', text);
    b.type = 'button';
    b.addEventListener('click', () => onClick().catch((err) => A.showError(err)));
    return b;
  }

  async function openPersona(id) {
    A.clearError();
    clearProblems();
    show(await A.getJSON(`/api/authoring/personas/${encodeURIComponent(id)}`));
  }

  async function compare(older, newer) {
    const response = await A.request(
      `/api/authoring/personas/${encodeURIComponent(current.id)}/diff?older=${older}&newer=${newer}`, { method: 'GET' });
    if (!response.ok) throw await A.errorFromResponse(response);
    const out = $('diff-output');
    out.textContent = (await response.text()) || 'The two versions are the same.';
    out.hidden = false;
  }

  async function rollback(version) {
    const detail = await send('POST', `/api/authoring/personas/${encodeURIComponent(current.id)}/rollback`, { version });
    if (detail) { show(detail); await loadList(); clearProblems(`Version ${version} is back, as version ${detail.latest}.`); }
  }

  async function preview(version) {
    const started = await send('POST', `/api/authoring/personas/${encodeURIComponent(current.id)}/preview`, { version });
    if (started) window.location.assign(`/sessions/${encodeURIComponent(started.session_id)}`);
  }

  $('check-button').addEventListener('click', async () => {
    A.clearError();
    try {
      const ok = await send('POST', '/api/authoring/validate', { yaml: yamlInput.value || ' ' });
      if (ok) clearProblems(`No problems: ${ok.name} (${ok.id}) is ready to save.`);
    } catch (err) { A.showError(err); }
  });

  $('editor-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    A.clearError();
    const body = { yaml: yamlInput.value || ' ', note: $('note-input').value };
    try {
      const detail = current
        ? await send('PUT', `/api/authoring/personas/${encodeURIComponent(current.id)}`, body)
        : await send('POST', '/api/authoring/personas', body);
      if (!detail) return;
      show(detail);
      $('note-input').value = '';
      await loadList();
      clearProblems(`Saved as version ${detail.latest}.`);
    } catch (err) { A.showError(err); }
  });

  $('publish-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = [...$('publish-cohorts').querySelectorAll('input:checked')].map((i) => i.value);
    try {
      const detail = await send('POST', `/api/authoring/personas/${encodeURIComponent(current.id)}/publish`,
        { version: Number($('publish-version').value), cohort_ids: chosen });
      if (detail) { show(detail); await loadList(); clearProblems(chosen.length ? 'Published.' : 'Withdrawn from every cohort.'); }
    } catch (err) { A.showError(err); }
  });

  $('new-persona').addEventListener('click', async () => {
    current = null;
    $('editing-label').textContent = '— new persona';
    $('save-button').textContent = 'Create';
    $('versions-panel').hidden = true;
    clearProblems();
    const from = $('start-from').value;
    yamlInput.value = '';
    if (from) {
      const response = await A.request(`/api/authoring/library/${encodeURIComponent(from)}.yaml`, { method: 'GET' });
      if (response.ok) yamlInput.value = (await response.text()).replace(/^id: .*$/m, `id: my-${from}`);
    }
    yamlInput.focus();
  });

  $('import-file').addEventListener('change', async (event) => {
    const file = event.target.files && event.target.files[0];
    if (!file) return;
    current = null;
    $('editing-label').textContent = `— importing ${file.name}`;
    $('save-button').textContent = 'Create';
    $('versions-panel').hidden = true;
    yamlInput.value = await file.text();
    clearProblems('Imported into the editor: check it, then create it.');
  });

  (async function start() {
    try {
      cohorts = await A.getJSON('/api/review/cohorts');
      await loadList();
    } catch (err) { A.showError(err); }
  })();
})();
