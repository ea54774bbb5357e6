// Console: incidents. The push (WS /api/incidents/events, signed in with the first message)
// brings every incident this user may see the moment it is raised, updated or closed: a banner
// says what and where, the map rings the cameras an incident uses and draws its radius, an
// emergency bell opens its nearest camera at once, and a responder puts the incident's cameras
// on the wall with one click. The Incidents view lists them, with their cameras, why video is
// (or is not) provided, and the actions of those who work them; operators raise one there.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const shell = window.ArgusConsole;
  const t = (en, ko) => shell.t(en, ko);
  const RAISERS = ['operator', 'supervisor', 'responder', 'system_admin'];
  const state = { socket: null, incidents: new Map(), circles: new Map(), closing: false, retry: 0 };
  window.argusIncidents = state; // for tests

  function label(incident) {
    const where = incident.title ? ` · ${incident.title}` : '';
    return `#${incident.id} ${incident.source} ${incident.type_label}${where}`;
  }

  // the incident's video is this user's: their agency responds, and their role watches video
  function mine(incident) {
    return !!shell.me && incident.responding_agency_id === shell.me.agency_id && incident.provides
      && incident.status !== 'closed' && incident.cameras.length > 0
      && shell.has('operator', 'supervisor', 'responder');
  }

  function live() {
    return [...state.incidents.values()].filter((i) => i.status !== 'closed');
  }

  // the cameras the live incidents use, for the map's rings
  function mark() {
    const used = new Map();
    for (const incident of live()) {
      for (const c of incident.cameras) {
        if (!used.has(c.camera_id)) used.set(c.camera_id, []);
        used.get(c.camera_id).push(incident.id);
      }
    }
    shell.setInUse(used);
    for (const [id, circle] of state.circles) {
      const incident = state.incidents.get(id);
      if (!incident || incident.status === 'closed') {
        circle.remove();
        state.circles.delete(id);
      }
    }
    for (const incident of live()) {
      if (state.circles.has(incident.id) || !shell.map) continue;
      const circle = L.circle([incident.lat, incident.lon], {
        radius: incident.radius_m, color: '#d9480f', weight: 2, fillOpacity: 0.06, interactive: false,
      }).addTo(shell.map);
      state.circles.set(incident.id, circle);
    }
  }

  function banner(message) {
    const incident = message.incident;
    const box = $('incident-banner');
    box.hidden = false;
    box.dataset.incident = String(incident.id);
    box.dataset.change = message.change;
    box.dataset.forYou = String(!!message.for_you);
    const verb = {
      raised: t('New incident', '신규 사건'), updated: t('Incident updated', '사건 갱신'),
      activated: t('Incident being worked', '사건 처리 중'), closed: t('Incident closed', '사건 종료'),
    }[message.change] || message.change;
    const ended = incident.close_reason ? ` (${incident.close_reason})` : '';
    const video = incident.status === 'closed' && incident.provides
      ? t(`video ended${ended}`, `영상 제공 종료${ended}`)
      : incident.provides ? t(`${incident.cameras.length} cameras for ${incident.responding_agency}`,
        `${incident.responding_agency}에 카메라 ${incident.cameras.length}대 제공`)
      : t(`no video: ${incident.provision_reason}`, `영상 제공 없음: ${incident.provision_reason}`);
    $('incident-banner-text').textContent = `${verb}: ${label(incident)} — ${video}`;
    $('incident-banner-wall').hidden = !(message.for_you && mine(incident));
  }

  function onMessage(event) {
    let message;
    try { message = JSON.parse(event.data); } catch (_) { return; }
    if (message.type === 'hello') {
      state.incidents = new Map(message.live.map((i) => [i.id, i]));
      document.body.dataset.incidents = 'ready';
    } else if (message.type === 'incident') {
      state.incidents.set(message.incident.id, message.incident);
      banner(message);
      if (message.popup_camera_id && message.change === 'raised' && message.for_you) {
        shell.openCamera(message.popup_camera_id);
      }
    }
    mark();
    if (!$('view-incidents').hidden) render();
  }

  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/api/incidents/events`);
    state.socket = socket;
    socket.addEventListener('open', () => {
      state.retry = 0;
      socket.send(JSON.stringify({ type: 'auth', token: ArgusLive.bearer() }));
    });
    socket.addEventListener('message', onMessage);
    socket.addEventListener('close', () => {
      document.body.dataset.incidents = 'closed';
      if (state.closing || !ArgusLive.bearer()) return;
      state.retry = Math.min(state.retry + 1, 5);
      setTimeout(connect, 500 * state.retry); // the hello on reconnecting brings what was missed
    });
  }

  // the incident's cameras on the wall in place of what it showed, watched for one of the
  // incident's purposes (the wall's own if the incident allows it)
  async function toWall(incident) {
    const offered = [...$('wall-purpose').options].map((o) => o.value);
    const current = $('wall-purpose').value;
    const purpose = incident.purposes.includes(current) ? current
      : incident.purposes.find((p) => offered.includes(p)) || current;
    shell.showView('wall');
    const ids = incident.cameras.map((c) => c.camera_id);
    await shell.showOnWall(ids, purpose);
    $('wall-status').textContent = t(
      `incident #${incident.id}: ${Math.min(ids.length, 16)} cameras on the wall`,
      `사건 #${incident.id}: 카메라 ${Math.min(ids.length, 16)}대 영상벽 표출`,
    );
  }

  function button(text, action) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.addEventListener('click', action);
    return b;
  }

  async function act(incident, verb, body) {
    const status = $('incidents-status');
    try {
      const done = await shell.api(`/api/incidents/${incident.id}/${verb}`, 'POST', body);
      state.incidents.set(done.id, done);
      status.textContent = t(`incident #${done.id} is ${done.status}`, `사건 #${done.id}: ${done.status}`);
      mark();
      render();
    } catch (err) {
      status.textContent = err.message;
    }
  }

  function render() {
    const body = $('incidents-table').querySelector('tbody');
    body.replaceChildren();
    const rows = [...state.incidents.values()].sort((a, b) => b.id - a.id);
    for (const incident of rows) {
      const tr = document.createElement('tr');
      tr.dataset.incident = String(incident.id);
      tr.dataset.status = incident.status;
      const cells = [
        `#${incident.id}`,
        new Date(incident.opened_at).toLocaleString(shell.lang === 'ko' ? 'ko-KR' : 'en-GB',
          { timeZone: shell.timezone }),
        `${incident.source} · ${incident.type_label}${incident.title ? ` · ${incident.title}` : ''}`,
        `${incident.status} · P${incident.priority}`,
        incident.responding_agency || '—',
        incident.provides ? incident.provision_reason : `${t('no video', '영상 제공 없음')}: ${incident.provision_reason}`,
      ];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      const cams = document.createElement('td');
      for (const c of incident.cameras) {
        cams.append(button(`#${c.camera_id} ${Math.round(c.distance_m)} m ${c.facing}`, () => shell.openCamera(c.camera_id)));
      }
      tr.append(cams);
      const actions = document.createElement('td');
      actions.append(button(t('Map', '지도'), () => {
        shell.showView('map');
        shell.map.setView([incident.lat, incident.lon], 16);
      }));
      if (mine(incident)) {
        actions.append(button(t('Cameras to the wall', '영상벽으로'), () => toWall(incident)));
      }
      if (shell.has(...RAISERS) && incident.status === 'open') {
        actions.append(button(t('Activate', '처리 시작'), () => act(incident, 'activate')));
      }
      if (shell.has(...RAISERS) && incident.status !== 'closed') {
        actions.append(button(t('Close', '종료'), () => act(incident, 'close', { reason: '' })));
      }
      tr.append(actions);
      body.append(tr);
    }
    $('incidents-status').dataset.count = String(rows.length);
  }

  async function load() {
    try {
      const all = await shell.api('/api/incidents?limit=200');
      for (const incident of all) state.incidents.set(incident.id, incident);
    } catch (err) {
      $('incidents-status').textContent = err.message;
    }
    $('raise-form').hidden = !shell.has(...RAISERS);
    render();
  }

  async function raise(event) {
    event.preventDefault();
    const centre = shell.map.getCenter();
    const lat = $('raise-lat').value ? Number($('raise-lat').value) : centre.lat;
    const lon = $('raise-lon').value ? Number($('raise-lon').value) : centre.lng;
    const body = { type: $('raise-type').value, at: { lat, lon } };
    if ($('raise-title').value.trim()) body.title = $('raise-title').value.trim();
    try {
      const made = await shell.api('/api/incidents', 'POST', body);
      state.incidents.set(made.id, made);
      $('incidents-status').textContent = t(`incident #${made.id} raised`, `사건 #${made.id} 접수`);
      mark();
      render();
    } catch (err) {
      $('incidents-status').textContent = err.message;
    }
  }

  shell.onSignIn.push(() => connect());
  shell.onSignOut.push(() => {
    state.closing = true;
    if (state.socket) state.socket.close();
  });
  document.addEventListener('DOMContentLoaded', () => {
    $('raise-form').addEventListener('submit', raise);
    $('incident-banner-wall').addEventListener('click', () => {
      const incident = state.incidents.get(Number($('incident-banner').dataset.incident));
      if (incident) toWall(incident);
    });
    $('incident-banner-show').addEventListener('click', () => {
      const incident = state.incidents.get(Number($('incident-banner').dataset.incident));
      if (!incident) return;
      shell.showView('map');
      shell.map.setView([incident.lat, incident.lon], 16);
    });
    $('incident-banner-close').addEventListener('click', () => { $('incident-banner').hidden = true; });
  });
  shell.views.incidents = { load };
})();
