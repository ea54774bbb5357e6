// Console: sharing agreements for agency admins (and supervisors, who read them): propose a draft,
// accept a proposal as the owner, suspend, resume and revoke. Revoking or suspending ends the
// live views resting on the agreement at once; the server says so to every open tile.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const shell = window.ArgusConsole;

  const ACTIONS = {
    draft: [['propose', 'Propose (제안)']],
    proposed: [['accept', 'Accept (수락)']],
    accepted: [['suspend', 'Suspend (정지)'], ['revoke', 'Revoke (해지)']],
    suspended: [['resume', 'Resume (재개)'], ['revoke', 'Revoke (해지)']],
  };

  function cell(text) {
    const td = document.createElement('td');
    td.textContent = text;
    return td;
  }

  async function act(agreement, verb) {
    const status = $('agreements-status');
    let body;
    if (verb === 'revoke' || verb === 'suspend') {
      const note = window.prompt(`Why ${verb} agreement ${agreement.id}? (사유)`);
      if (note === null) return;
      body = { note };
    }
    try {
      const done = await shell.api(`/api/agreements/${agreement.id}/${verb}`, 'POST', body);
      status.textContent = `agreement ${agreement.id}: ${done.status}`;
    } catch (err) {
      status.textContent = `agreement ${agreement.id}: ${err.message}`;
    }
    await load();
  }

  async function load() {
    const status = $('agreements-status');
    let rows;
    try {
      rows = await shell.api('/api/agreements');
    } catch (err) {
      status.textContent = `agreements could not be read: ${err.message}`;
      return;
    }
    const body = $('agreements-table').querySelector('tbody');
    body.replaceChildren();
    for (const a of rows) {
      const tr = document.createElement('tr');
      tr.dataset.agreement = String(a.id);
      tr.dataset.status = a.status;
      const actions = document.createElement('td');
      if (shell.has('agency_admin', 'system_admin')) {
        for (const [verb, label] of ACTIONS[a.status] || []) {
          const b = document.createElement('button');
          b.type = 'button';
          b.dataset.verb = verb;
          b.textContent = label;
          b.addEventListener('click', () => act(a, verb));
          actions.append(b, ' ');
        }
      }
      tr.append(cell(String(a.id)), cell(`${a.owner_name} → ${a.consumer_name}`),
        cell(a.status_note ? `${a.status}: ${a.status_note}` : a.status), cell(a.selector_text),
        cell(`${a.purposes.join(', ')} · ${a.capabilities.join(', ')}`), actions);
      body.append(tr);
    }
    if (!rows.length) status.textContent = 'no agreements (협약 없음)';
  }

  shell.views.agreements = { load };
})();
