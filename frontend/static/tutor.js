/* Tutor review: the cohort dashboard and one session's review. Every text from the server is
   inserted with textContent (through Alliance.el), never as HTML. */
(function () {
  'use strict';
  const A = window.Alliance;
  if (!A) return;
  const el = A.el;
  const DIMENSIONS = [
    ['recognition', 'Recognition'], ['authenticity', 'Authenticity'], ['collaboration', 'Collaboration'],
    ['power_awareness', 'Power awareness'], ['boundaries', 'Boundaries'],
  ];

  function when(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
  }

  function fixed(value, digits) {
    return value === null || value === undefined ? '—' : Number(value).toFixed(digits);
  }

  function overall(scores) {
    const values = Object.values(scores || {}).filter((v) => v !== null && v !== undefined);
    if (!values.length) return null;
    return values.reduce((a, b) => a + b, 0) / values.length;
  }

  function fill(tbody, rows) {
    tbody.replaceChildren(...rows.map((cells) => el('tr', null, ...cells.map((c) => el('td', null, c)))));
  }

  /* ---- dashboard ---- */
  async function dashboard(root) {
    const select = document.getElementById('cohort-select');
    try {
      const cohorts = await A.getJSON('/api/review/cohorts');
      cohorts.forEach((c) => {
        const option = el('option', null, `${c.name} (${c.trainees} trainee${c.trainees === 1 ? '' : 's'})`);
        option.value = c.id;
        select.appendChild(option);
      });
    } catch (err) {
      A.showError(err);
      return;
    }
    select.addEventListener('change', () => load(select.value));
    await load('');
  }

  async function load(cohortId) {
    const query = cohortId ? `?cohort_id=${encodeURIComponent(cohortId)}` : '';
    A.clearError();
    let sessions;
    let agreement;
    try {
      [sessions, agreement] = await Promise.all([
        A.getJSON('/api/review/sessions' + query), A.getJSON('/api/review/agreement' + query),
      ]);
    } catch (err) {
      A.showError(err);
      return;
    }
    document.getElementById('no-sessions').hidden = sessions.length > 0;
    // Trainees: who practised, with which clients, and the mean score of their first and latest session.
    const byTrainee = new Map();
    sessions.slice().reverse().forEach((s) => {
      const t = byTrainee.get(s.trainee_id) || { name: s.trainee_name, sessions: [], personas: new Set() };
      t.sessions.push(s);
      t.personas.add(s.persona_id);
      byTrainee.set(s.trainee_id, t);
    });
    fill(document.querySelector('#trainee-table tbody'), [...byTrainee.values()].map((t) => {
      const scored = t.sessions.map((s) => overall(s.scores)).filter((v) => v !== null);
      const trend = scored.length ? `${fixed(scored[0], 2)} → ${fixed(scored[scored.length - 1], 2)}` : '—';
      return [t.name, String(t.sessions.length), [...t.personas].join(', '),
        when(t.sessions[t.sessions.length - 1].created_at), trend];
    }));
    fill(document.querySelector('#session-table tbody'), sessions.map((s) => {
      const link = el('a', null, 'Review');
      link.href = `/tutor/sessions/${encodeURIComponent(s.id)}`;
      return [when(s.created_at), s.trainee_name, `${s.persona_id} (v${s.persona_version})`,
        String(s.critiqued_turns), fixed(overall(s.scores), 2), link];
    }));
    fill(document.querySelector('#agreement-table tbody'), agreement.map((d) => {
      const label = (DIMENSIONS.find(([k]) => k === d.dimension) || [d.dimension, d.dimension])[1];
      return [label, String(d.turns),
        d.exact_agreement === null ? '—' : `${Math.round(d.exact_agreement * 100)}%`,
        fixed(d.weighted_kappa, 2), fixed(d.spearman, 2)];
    }));
  }

  /* ---- one session ---- */
  async function session(root) {
    const id = root.dataset.sessionId;
    let data;
    try {
      data = await A.getJSON(`/api/review/sessions/${encodeURIComponent(id)}`);
    } catch (err) {
      A.showError(err);
      return;
    }
    document.getElementById('session-summary').textContent =
      `Client ${data.persona_id} (version ${data.persona_version}), started ${when(data.created_at)}, ${data.status}.`;
    const list = document.getElementById('review-turns');
    list.replaceChildren(...data.turns.map((t, i) => turnView(data, t, i)));
  }

  function stateView(state) {
    if (!state) return null;
    const dl = el('dl', 'review-state');
    const shown = [['trust', 'Trust'], ['activation', 'Activation'], ['rupture', 'Rupture'], ['stance', 'Stance'],
      ['disclosed', 'Disclosed layers']];
    shown.forEach(([key, label]) => {
      if (!(key in state)) return;
      const v = state[key];
      dl.appendChild(el('dt', null, label));
      dl.appendChild(el('dd', null, Array.isArray(v) ? (v.join(', ') || 'none') : String(v)));
    });
    return el('div', null, el('h3', null, 'Client state behind this reply'), dl);
  }

  function commentsView(data, t) {
    const box = el('div', null, el('h3', null, 'Tutor comments'));
    const ul = el('ul', 'review-comments');
    const render = (c) => ul.appendChild(el('li', null, el('strong', null, c.author + ': '), c.text));
    t.comments.forEach(render);
    if (!t.comments.length) ul.appendChild(el('li', 'hint', 'No comments yet.'));
    box.appendChild(ul);
    if (!data.can_review) return box;
    const form = el('form', 'review-form');
    const label = el('label', null, 'Add a comment');
    const area = el('textarea');
    area.rows = 2;
    area.maxLength = 4000;
    area.id = `comment-${t.id}`;
    label.htmlFor = area.id;
    const button = el('button', 'button button--small', 'Save comment');
    button.type = 'submit';
    form.append(label, area, button);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!area.value.trim()) { A.showError('Write the comment before saving it.'); return; }
      button.disabled = true;
      try {
        const saved = await A.postJSON(
          `/api/review/sessions/${encodeURIComponent(data.id)}/turns/${encodeURIComponent(t.id)}/comments`,
          { text: area.value });
        if (ul.firstChild && ul.firstChild.classList.contains('hint')) ul.replaceChildren();
        render(saved);
        area.value = '';
        A.clearError();
      } catch (err) {
        A.showError(err);
      } finally {
        button.disabled = false;
      }
    });
    box.appendChild(form);
    return box;
  }

  function overridesView(data, t) {
    const box = el('div', null, el('h3', null, 'Ratings'));
    DIMENSIONS.forEach(([key, label]) => {
      const ai = t.critique && t.critique[key] ? t.critique[key].score : null;
      const mine = t.overrides.find((o) => o.dimension === key);
      const line = el('p', 'review-override', `${label}: AI ${ai === null ? 'n/a' : ai}`,
        mine ? ` · tutor ${mine.score === null ? 'n/a' : mine.score} (${mine.tutor})` : '',
        mine && mine.note ? ` — ${mine.note}` : '');
      line.id = `rating-${t.id}-${key}`;
      box.appendChild(line);
    });
    if (!data.can_review) return box;
    const form = el('form', 'review-form');
    const dim = el('select');
    DIMENSIONS.forEach(([key, label]) => { const o = el('option', null, label); o.value = key; dim.appendChild(o); });
    const score = el('select');
    [['0', '0'], ['1', '1'], ['2', '2'], ['3', '3'], ['', 'Not applicable']].forEach(([v, l]) => {
      const o = el('option', null, l); o.value = v; score.appendChild(o);
    });
    const note = el('input');
    note.placeholder = 'Why (optional)';
    note.maxLength = 2000;
    dim.setAttribute('aria-label', 'Dimension');
    score.setAttribute('aria-label', 'Your score');
    note.setAttribute('aria-label', 'Why');
    const button = el('button', 'button button--small', 'Save rating');
    button.type = 'submit';
    form.append(dim, score, note, button);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      button.disabled = true;
      try {
        const saved = await A.request(
          `/api/review/sessions/${encodeURIComponent(data.id)}/turns/${encodeURIComponent(t.id)}/ratings/${dim.value}`,
          { method: 'PUT', headers: A.jsonHeaders(),
            body: JSON.stringify({ score: score.value === '' ? null : Number(score.value), note: note.value }) });
        if (!saved.ok) throw await A.errorFromResponse(saved);
        const body = await saved.json();
        const existing = t.overrides.findIndex((o) => o.dimension === body.dimension);
        if (existing >= 0) t.overrides[existing] = body; else t.overrides.push(body);
        box.replaceWith(overridesView(data, t));
        A.clearError();
      } catch (err) {
        A.showError(err);
        button.disabled = false;
      }
    });
    box.appendChild(form);
    return box;
  }

  function turnView(data, t, index) {
    const item = el('li', 'review-turn');
    item.id = `turn-${t.id}`;
    item.appendChild(el('p', 'review-turn__line', el('span', 'review-turn__who', `Trainee (${index + 1}):`), t.trainee_text));
    item.appendChild(el('p', 'review-turn__line', el('span', 'review-turn__who', 'Client:'),
      t.reply === null ? `(${t.reply_status})` : t.reply));
    const critique = el('div', 'critique', el('h3', null, 'AI critique'));
    if (t.critique) critique.appendChild(A.renderCritique(t.critique));
    else critique.appendChild(el('p', 'hint', 'No critique for this turn.'));
    item.appendChild(el('div', 'review-turn__grid', critique, stateView(t.client_state),
      overridesView(data, t), commentsView(data, t)));
    return item;
  }

  function start() {
    const dash = document.getElementById('tutor-dashboard');
    if (dash) dashboard(dash);
    const one = document.getElementById('tutor-session');
    if (one) session(one);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
