// Console: the audit log for auditors: entries of their agency (every agency's for a system
// admin), filtered by action, outcome, camera and time, a page at a time; and the integrity of
// the whole log as `argus audit verify` sees it (the hash chain and the signed checkpoints).
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const shell = window.ArgusConsole;
  const t = (en, ko) => shell.t(en, ko);
  const PAGE = 100;
  let offset = 0;

  function cell(text) {
    const td = document.createElement('td');
    td.textContent = text === null || text === undefined ? '' : String(text);
    return td;
  }

  function filters() {
    const q = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    const action = $('a-action').value.trim();
    if (action) q.set('action', action);
    if ($('a-outcome').value) q.set('outcome', $('a-outcome').value);
    if ($('a-camera').value) q.set('camera', $('a-camera').value);
    if ($('a-since').value) q.set('since', new Date($('a-since').value).toISOString());
    if ($('a-until').value) q.set('until', new Date($('a-until').value).toISOString());
    return q;
  }

  async function entries() {
    const status = $('audit-status');
    let page;
    try {
      page = await shell.api(`/api/audit?${filters()}`);
    } catch (err) {
      status.textContent = `the audit log could not be read: ${err.message}`;
      return;
    }
    const body = $('audit-table').querySelector('tbody');
    body.replaceChildren();
    for (const e of page.items) {
      const tr = document.createElement('tr');
      tr.dataset.action = e.action;
      tr.dataset.outcome = e.outcome;
      const shownAt = new Date(e.time).toLocaleString('sv-SE', {
        hour12: false, timeZone: shell.timezone || undefined,
      });
      tr.append(cell(e.seq), cell(shownAt), cell(e.action), cell(e.outcome),
        cell(e.actor_user_id ? `user ${e.actor_user_id} · agency ${e.actor_agency_id}` : 'system'),
        cell(e.target), cell(e.purpose), cell(e.reason));
      body.append(tr);
    }
    const last = Math.min(page.total, offset + page.items.length);
    status.textContent = `${page.total ? offset + 1 : 0}–${last} of ${page.total} entries`;
    $('a-prev').disabled = offset === 0;
    $('a-next').disabled = last >= page.total;
  }

  async function verify() {
    const out = $('audit-verify');
    out.textContent = t('verifying…', '검증 중');
    try {
      const result = await shell.api('/api/audit/verify');
      out.dataset.intact = String(result.intact);
      out.textContent = result.intact
        ? `${t('intact', '무결')}: ${result.summary}`
        : `${t('NOT intact', '변조 의심')}: ${result.summary}`;
    } catch (err) {
      out.textContent = `could not verify: ${err.message}`;
    }
  }

  async function load() {
    offset = 0;
    await Promise.all([entries(), verify()]);
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('audit-form').addEventListener('submit', (event) => {
      event.preventDefault();
      offset = 0;
      entries();
    });
    $('a-prev').addEventListener('click', () => { offset = Math.max(0, offset - PAGE); entries(); });
    $('a-next').addEventListener('click', () => { offset += PAGE; entries(); });
    $('a-verify').addEventListener('click', verify);
  });

  shell.views.audit = { load };
})();
