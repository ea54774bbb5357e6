// Console: evidence exports. The camera panel's request form (purpose from the panel, range, legal
// basis, recipient, case number); the list of the agency's exports and of those its cameras are
// in, with approve and refuse for the owners' agency admins and the download for the requester.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const shell = window.ArgusConsole;
  const t = (en, ko) => shell.t(en, ko);
  let refresh = null;

  function cell(text) {
    const td = document.createElement('td');
    td.textContent = text;
    return td;
  }

  function button(label, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.addEventListener('click', onClick);
    return b;
  }

  function when(iso) {
    const zone = shell.timezone || undefined;
    return new Date(iso).toLocaleString('sv-SE', { hour12: false, timeZone: zone });
  }

  async function download(exportId) {
    const status = $('exports-status');
    try {
      const link = await shell.api(`/api/exports/${exportId}/link`, 'POST');
      const a = document.createElement('a');
      a.href = link.url; // the link is the capability: no bearer needed, so the browser saves it
      a.download = `export-${exportId}.zip`;
      document.body.append(a);
      a.click();
      a.remove();
      status.textContent = `export ${exportId}: download started; the link works until ${when(link.expires_at)}`;
    } catch (err) {
      status.textContent = `export ${exportId}: ${err.message}`;
    }
  }

  async function decide(exportId, approve) {
    const status = $('exports-status');
    let body = {};
    if (!approve) {
      const reason = window.prompt(t(`Why is export ${exportId} refused?`, `반출 ${exportId} 거부 사유`));
      if (!reason) return;
      body = { reason };
    }
    try {
      await shell.api(`/api/exports/${exportId}/${approve ? 'approve' : 'refuse'}`, 'POST', body);
      status.textContent = `export ${exportId} ${approve ? 'approved' : 'refused'}`;
    } catch (err) {
      status.textContent = `export ${exportId}: ${err.message}`;
    }
    await load();
  }

  async function load() {
    const status = $('exports-status');
    let rows;
    try {
      rows = await shell.api('/api/exports');
    } catch (err) {
      status.textContent = `exports could not be read: ${err.message}`;
      return;
    }
    const body = $('exports-table').querySelector('tbody');
    body.replaceChildren();
    const me = shell.me;
    for (const x of rows) {
      const tr = document.createElement('tr');
      tr.dataset.export = String(x.id);
      tr.dataset.state = x.state;
      const ranges = x.items.map((i) => `#${i.camera_id} ${when(i.from)} ~ ${when(i.until)}`).join('; ');
      const approvals = x.approvals.map((a) => `agency ${a.owner_agency_id}: ${a.state}${a.automatic ? ' (auto)' : ''}`).join('; ');
      const actions = document.createElement('td');
      const mine = x.approvals.find((a) => a.owner_agency_id === me.agency_id && a.state === 'pending');
      if (x.state === 'pending' && mine && shell.has('agency_admin')) {
        actions.append(button(t('Approve', '승인'), () => decide(x.id, true)), ' ',
          button(t('Refuse', '거부'), () => decide(x.id, false)));
      }
      if (x.state === 'ready' && (x.requester_id === me.id || (shell.has('agency_admin') && x.requester_agency_id === me.agency_id))) {
        actions.append(button(t('Download', '내려받기'), () => download(x.id)));
      }
      tr.append(cell(String(x.id)), cell(x.reason ? `${x.state}: ${x.reason}` : x.state), cell(ranges),
        cell(x.case_number ? `${x.purpose} · ${x.case_number}` : x.purpose), cell(x.recipient),
        cell(approvals), actions);
      body.append(tr);
    }
    if (!rows.length) status.textContent = t('no exports', '반출 내역 없음');
    // an approved export is being cut and signed: look again until it is ready (or failed)
    clearTimeout(refresh);
    if (rows.some((x) => x.state === 'approved') && !$('view-exports').hidden) {
      refresh = setTimeout(load, 1000);
    }
  }

  function localInput(date) {
    const pad = (n) => String(n).padStart(2, '0');
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  }

  document.addEventListener('DOMContentLoaded', () => {
    const box = $('export-box');
    box.addEventListener('toggle', () => {
      if (box.open && !$('x-from').value) {
        const now = new Date();
        $('x-until').value = localInput(new Date(now.getTime() - 60 * 1000));
        $('x-from').value = localInput(new Date(now.getTime() - 3 * 60 * 1000));
      }
    });
    $('export-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      const camera = shell.selected;
      const status = $('export-status');
      if (!camera) return;
      const body = {
        items: [{
          camera_id: camera.id,
          from: new Date($('x-from').value).toISOString(),
          until: new Date($('x-until').value).toISOString(),
        }],
        purpose: $('purpose').value,
        legal_basis: $('x-basis').value,
        recipient: $('x-recipient').value,
        case_number: $('x-case').value || null,
      };
      status.textContent = t('requesting…', '요청 중');
      try {
        const made = await shell.api('/api/exports', 'POST', body);
        const waiting = t("waiting for the owner's approval", '승인 대기');
        status.textContent = `export ${made.id}: ${made.state === 'pending' ? waiting : made.state}`;
        status.dataset.export = String(made.id);
      } catch (err) {
        status.textContent = `not requested: ${err.message}`;
      }
    });
  });

  shell.views.exports = { load };
})();
