// Console: sharing agreements for agency admins (and supervisors, who read them): propose a draft,
// accept a proposal as the owner, narrow (fewer purposes or capabilities), suspend, resume and
// revoke. Revoking, suspending or narrowing ends the live views no longer allowed at once; the
// server says so to every open tile.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const shell = window.ArgusConsole;
  const t = (en, ko) => shell.t(en, ko);

  const ACTIONS = {
    draft: [['propose', t('Propose', '제안')]],
    proposed: [['accept', t('Accept', '수락')]],
    accepted: [['narrow', t('Narrow', '축소')], ['suspend', t('Suspend', '정지')], ['revoke', t('Revoke', '해지')]],
    suspended: [['narrow', t('Narrow', '축소')], ['resume', t('Resume', '재개')], ['revoke', t('Revoke', '해지')]],
  };

  function cell(text) {
    const td = document.createElement('td');
    td.textContent = text;
    return td;
  }

  // the narrowing form under the agreement's row: its purposes and capabilities, unticked to drop
  function narrowForm(agreement, row) {
    const next = row.nextElementSibling;
    if (next && next.classList.contains('narrow')) {
      next.remove();
      return;
    }
    const tr = document.createElement('tr');
    tr.className = 'narrow';
    const td = document.createElement('td');
    td.colSpan = 6;
    const form = document.createElement('form');
    form.className = 'inline';
    const boxes = [];
    for (const [kind, values] of [['purposes', agreement.purposes], ['capabilities', agreement.capabilities]]) {
      for (const value of values) {
        const label = document.createElement('label');
        const box = document.createElement('input');
        box.type = 'checkbox';
        box.checked = true;
        box.dataset.kind = kind;
        box.value = value;
        label.append(box, ` ${value}`);
        boxes.push(box);
        form.append(label);
      }
    }
    const save = document.createElement('button');
    save.type = 'submit';
    save.textContent = t('Keep only the ticked', '선택한 것만 유지');
    form.append(save);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const pick = (kind) => boxes.filter((b) => b.dataset.kind === kind && b.checked).map((b) => b.value);
      const body = { purposes: pick('purposes'), capabilities: pick('capabilities') };
      try {
        const done = await shell.api(`/api/agreements/${agreement.id}`, 'PATCH', body);
        $('agreements-status').textContent = `agreement ${agreement.id} narrowed: ${done.purposes.join(', ')} · ${done.capabilities.join(', ')}`;
      } catch (err) {
        $('agreements-status').textContent = `agreement ${agreement.id}: ${err.message}`;
      }
      await load();
    });
    td.append(form);
    tr.append(td);
    row.after(tr);
  }

  async function act(agreement, verb, row) {
    if (verb === 'narrow') {
      narrowForm(agreement, row);
      return;
    }
    const status = $('agreements-status');
    let body;
    if (verb === 'revoke' || verb === 'suspend') {
      const note = window.prompt(t(`Why ${verb} agreement ${agreement.id}?`, `협약 ${agreement.id}: 사유`));
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
    $('new-agreement').hidden = !shell.has('agency_admin', 'system_admin');
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
          b.addEventListener('click', () => act(a, verb, tr));
          actions.append(b, ' ');
        }
      }
      tr.append(cell(String(a.id)), cell(`${a.owner_name} → ${a.consumer_name}`),
        cell(a.status_note ? `${a.status}: ${a.status_note}` : a.status), cell(a.selector_text),
        cell(`${a.purposes.join(', ')} · ${a.capabilities.join(', ')}`), actions);
      body.append(tr);
    }
    if (!rows.length) status.textContent = t('no agreements', '협약 없음');
  }

  async function agencies() {
    const owner = $('ag-owner');
    if (owner.options.length) return;
    const list = await shell.api('/api/agencies');
    for (const a of list) {
      const mine = a.id === shell.me.agency_id;
      owner.append(new Option(a.name, String(a.id), mine, mine));
      $('ag-consumer').append(new Option(a.name, String(a.id)));
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('new-agreement').addEventListener('toggle', () => {
      if ($('new-agreement').open) agencies().catch((err) => { $('agreements-status').textContent = err.message; });
    });
    $('agreement-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      const ticked = (id) => [...document.querySelectorAll(`#${id} input:checked`)].map((b) => b.value);
      const purposes = $('ag-cameras').value.split(/[\s,]+/).filter(Boolean);
      const body = {
        owner_agency_id: Number($('ag-owner').value),
        consumer_agency_id: Number($('ag-consumer').value),
        selector: purposes.length ? { purposes } : {},
        purposes: ticked('ag-purposes'),
        capabilities: ticked('ag-capabilities'),
        legal_basis: $('ag-basis').value,
      };
      try {
        const made = await shell.api('/api/agreements', 'POST', body);
        $('agreements-status').textContent = `agreement ${made.id}: ${made.status} (${made.selector_text})`;
        $('new-agreement').open = false;
      } catch (err) {
        $('agreements-status').textContent = `not saved: ${err.message}`;
      }
      await load();
    });
  });

  shell.views.agreements = { load };
})();
