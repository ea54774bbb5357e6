// Console: the PIPA ledger (개인영상정보 관리대장) for auditors: the rows of their agency's cameras
// (every agency's for a system admin), and the same as CSV for Excel.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const shell = window.ArgusConsole;
  const COLUMNS = ['kind', 'time', 'file', 'recipient', 'purpose', 'legal_basis', 'period',
    'destroyed_at', 'destroyed_by', 'owner'];

  async function load() {
    const status = $('ledger-status');
    let table;
    try {
      table = await shell.api('/api/ledger');
    } catch (err) {
      status.textContent = `the ledger could not be read: ${err.message}`;
      return;
    }
    const body = $('ledger-table').querySelector('tbody');
    body.replaceChildren();
    for (const row of table.rows) {
      const tr = document.createElement('tr');
      tr.dataset.kind = row.kind;
      for (const key of COLUMNS) {
        const td = document.createElement('td');
        td.textContent = row[key];
        tr.append(td);
      }
      body.append(tr);
    }
    status.textContent = `${table.rows.length} rows${table.truncated ? ' (the newest are in the CSV)' : ''}`;
  }

  async function csv() {
    const status = $('ledger-status');
    try {
      // the CSV needs the bearer token, so it is fetched here and saved from memory
      const response = await fetch('/api/ledger.csv', {
        headers: { Authorization: `Bearer ${ArgusLive.bearer()}` }, credentials: 'omit',
      });
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      const blob = await response.blob();
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = 'ledger.csv';
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    } catch (err) {
      status.textContent = `the CSV could not be made: ${err.message}`;
    }
  }

  document.addEventListener('DOMContentLoaded', () => $('ledger-csv').addEventListener('click', csv));
  shell.views.ledger = { load };
})();
