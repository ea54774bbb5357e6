// Argus console: sign in, the views each role may use (map, exports, agreements, ledger), and the
// map of every camera of the deployment: clustered, coloured by owner or purpose, filtered by
// agency, district, purpose and status, searchable by id, address or name, with a camera panel
// (details, live view, export request). Leaflet holds the map, Supercluster clusters the cameras
// per zoom and one canvas draws them; both libraries are served by Argus. The base layer is the
// boundaries Argus serves, or the deployment's own tile server. Other views live in their own
// files (exports.js, agreements.js, ledger.js) and register in window.ArgusConsole.views.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const PALETTE = [
    '#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2',
    '#7f7f7f', '#bcbd22', '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173',
  ];
  const STATUS_RING = {
    online: '#1a7f37', offline: '#cf222e', unknown: '#ffffff', incident: '#ff8c00',
  };
  const GWANGJU = [35.1595, 126.8526];
  const state = {
    map: null,
    layer: null,
    features: [],
    filtered: [],
    index: null,
    agencies: new Map(),
    colours: new Map(),
    inUse: new Map(), // camera id → the live incidents using it (incidents.js keeps it)
  };
  window.argusConsole = state; // for tests: what the map holds

  // one API client for the console and its live tiles (the bearer token in memory only)
  const api = (path, method = 'GET', body = undefined) => ArgusLive.api(method, path, body);
  const shell = {
    api,
    me: null,
    views: {},
    get selected() { return state.selected || null; },
    has(...roles) { return !!shell.me && roles.some((r) => shell.me.roles.includes(r)); },
    t(en, ko) { return shell.lang === 'ko' ? ko : en; }, // a text in the chosen language
    onSignIn: [], // called with the user once the map is ready
    onSignOut: [],
    onSelect: [], // called with a camera's properties when its panel opens, null when it closes
    get map() { return state.map; },
  };
  const t = shell.t;
  window.ArgusConsole = shell;
  ArgusLive.translate = (en, ko) => shell.t(en, ko);

  // Korean or English, as the browser prefers until the user switches (the choice is kept in
  // this browser). Labels carry both languages; an option's text is "english (한국어)".
  function setLanguage(lang) {
    document.body.dataset.lang = lang;
    document.documentElement.lang = lang;
    for (const option of document.querySelectorAll('option')) {
      // the page's own options are bilingual; those made later (agencies, districts) are names
      if (!option.dataset.both && shell.lang) continue;
      if (!option.dataset.both) option.dataset.both = option.textContent;
      const found = /^(.*) \(([^)]*)\)$/.exec(option.dataset.both);
      option.textContent = found ? (lang === 'ko' ? found[2] : found[1]) : option.dataset.both;
    }
    try { localStorage.setItem('argus.lang', lang); } catch (_) { /* private mode */ }
    shell.lang = lang;
  }

  function preferredLanguage() {
    let chosen = null;
    try { chosen = localStorage.getItem('argus.lang'); } catch (_) { chosen = null; }
    if (chosen === 'ko' || chosen === 'en') return chosen;
    const wanted = navigator.languages || [navigator.language || 'en'];
    return wanted.some((l) => l.toLowerCase().startsWith('ko')) ? 'ko' : 'en';
  }

  function showView(name) {
    for (const button of document.querySelectorAll('#nav button')) {
      button.setAttribute('aria-pressed', String(button.dataset.view === name));
    }
    for (const view of document.querySelectorAll('.view')) view.hidden = view.id !== `view-${name}`;
    if (name === 'map' && state.map) state.map.invalidateSize();
    const view = shell.views[name];
    if (view) view.load();
  }

  function statusOf(props) {
    if (state.inUse.has(props.id)) return 'incident';
    const s = props.stream_status;
    if (s === 'streaming') return 'online';
    if (s === null || s === undefined) return 'unknown';
    return 'offline';
  }

  function colourKey(props) {
    return $('f-colour').value === 'purpose' ? props.purpose : props.owner_name;
  }

  function colourOf(key) {
    if (!state.colours.has(key)) {
      state.colours.set(key, PALETTE[state.colours.size % PALETTE.length]);
    }
    return state.colours.get(key);
  }

  function option(select, value, text) {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    select.append(o);
  }

  function fillFilters() {
    const byName = (a, b) => a[1].localeCompare(b[1], 'ko');
    const owners = new Map();
    const districts = new Set();
    const purposes = new Set();
    for (const f of state.features) {
      owners.set(String(f.properties.owner_id), f.properties.owner_name);
      if (f.properties.district) districts.add(f.properties.district);
      purposes.add(f.properties.purpose);
    }
    for (const [id, name] of [...owners].sort(byName)) option($('f-agency'), id, name);
    for (const d of [...districts].sort((a, b) => a.localeCompare(b, 'ko'))) option($('f-district'), d, d);
    for (const p of [...purposes].sort()) option($('f-purpose'), p, p);
  }

  function apply() {
    const agency = $('f-agency').value;
    const district = $('f-district').value;
    const purpose = $('f-purpose').value;
    const status = $('f-status').value;
    state.filtered = state.features.filter((f) => {
      const p = f.properties;
      return (!agency || String(p.owner_id) === agency)
        && (!district || p.district === district)
        && (!purpose || p.purpose === purpose)
        && (!status || statusOf(p) === status);
    });
    state.index = new Supercluster({ radius: 70, maxZoom: 17, minPoints: 3 }).load(state.filtered);
    const count = state.filtered.length;
    $('count').textContent = t(`${count.toLocaleString('en')} cameras`, `카메라 ${count.toLocaleString('ko')}대`);
    $('count').dataset.count = String(count);
    legend();
    render();
  }

  function legend() {
    const keys = new Map();
    for (const f of state.filtered) {
      const key = colourKey(f.properties);
      keys.set(key, (keys.get(key) || 0) + 1);
    }
    const list = $('legend');
    list.replaceChildren();
    for (const [key, n] of [...keys].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
      const li = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = colourOf(key);
      li.append(swatch, `${key} · ${n.toLocaleString('en')}`);
      list.append(li);
    }
  }

  function details(props, dl) {
    const status = {
      online: t('online', '정상'), offline: t('offline', '장애'), unknown: t('not pulled yet', '미확인'),
      incident: t(`in use by incident ${(state.inUse.get(props.id) || []).map((i) => `#${i}`).join(', ')}`,
        `사건 대응 중 ${(state.inUse.get(props.id) || []).map((i) => `#${i}`).join(', ')}`),
    }[statusOf(props)];
    const rows = [
      [t('Camera', '카메라'), `#${props.id}${props.name ? ` · ${props.name}` : ''}`],
      [t('Owner', '관리기관'), props.owner_name],
      [t('Purpose', '설치목적'), props.purpose_raw || props.purpose],
      [t('Address', '주소'), props.road_address || props.lot_address || '—'],
      [t('Status', '상태'), `${status}${props.stream_error ? `: ${props.stream_error}` : ''}`],
      [t('Retention', '보관일수'), t(`${props.retention_days} days`, `${props.retention_days}일`)],
    ];
    dl.replaceChildren();
    for (const [term, value] of rows) {
      const dt = document.createElement('dt');
      dt.textContent = term;
      const dd = document.createElement('dd');
      dd.textContent = value;
      dl.append(dt, dd);
    }
    return dl;
  }

  function popup(props) {
    const box = document.createElement('div');
    const dl = details(props, document.createElement('dl'));
    dl.className = 'camera-popup';
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'popup-open';
    open.textContent = t('Open the camera panel', '카메라 패널 열기');
    open.addEventListener('click', () => select(props));
    box.append(dl, open);
    return box;
  }

  // the camera panel: details, and a live view for the declared purpose (a refusal shows the
  // reason authorize gave)
  function select(props) {
    state.selected = props;
    $('panel').hidden = false;
    details(props, $('panel-details'));
    $('panel-title').textContent = t(`Camera #${props.id}`, `카메라 #${props.id}`);
    $('export-status').textContent = '';
    $('panel-status').textContent = '';
    $('rights').replaceChildren();
    if (state.tile) state.tile.stop('another camera was chosen');
    if (shell.playback) shell.playback.stop();
    state.map.invalidateSize();
    for (const listener of shell.onSelect) listener(props);
  }

  // what authorize says for this user, camera and purpose, per capability: the agreement or
  // ownership that allows it, or the reason it does not (each question is audited)
  async function rights() {
    if (!state.selected) return;
    const list = $('rights');
    list.replaceChildren();
    for (const capability of ['live', 'playback', 'export']) {
      const q = new URLSearchParams({
        camera: String(state.selected.id), capability, purpose: $('purpose').value,
      });
      const li = document.createElement('li');
      li.dataset.capability = capability;
      try {
        const d = await api(`/api/access/check?${q}`);
        li.dataset.allowed = String(d.allowed);
        const label = { live: t('live', '실시간'), playback: t('playback', '재생'), export: t('export', '반출') }[capability];
        li.textContent = `${label}: ${d.allowed ? '✔' : '✘'} ${d.reason}`;
      } catch (err) {
        li.textContent = `${capability}: ${err.message}`;
      }
      list.append(li);
    }
  }

  function watch() {
    if (!state.selected) return;
    if (!state.tile) {
      state.tile = new ArgusLive.Tile(0);
      $('panel-tile').append(state.tile.el);
    }
    state.tile.open(state.selected.id, $('purpose').value, 'instant');
  }

  // All cameras on one canvas, redrawn whole after every move: thousands of Leaflet layers (one
  // per marker or cluster, with a DOM label each) cost hundreds of milliseconds per zoom; one
  // canvas costs a few. Clicks are matched against what was drawn last.
  const CameraCanvas = L.Layer.extend({
    onAdd(map) {
      this.canvas = L.DomUtil.create('canvas', 'camera-canvas leaflet-zoom-hide');
      map.getPanes().overlayPane.append(this.canvas);
      this.drawn = [];
      map.on('moveend resize', this.redraw, this);
      map.on('click', this.click, this);
      this.redraw();
    },
    onRemove(map) {
      this.canvas.remove();
      map.off('moveend resize', this.redraw, this);
      map.off('click', this.click, this);
    },
    redraw() {
      const map = this._map;
      if (!map || !state.index) return;
      const t0 = performance.now();
      const size = map.getSize();
      const ratio = window.devicePixelRatio || 1;
      const canvas = this.canvas;
      canvas.width = size.x * ratio;
      canvas.height = size.y * ratio;
      canvas.style.width = `${size.x}px`;
      canvas.style.height = `${size.y}px`;
      L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
      const g = canvas.getContext('2d');
      g.scale(ratio, ratio);
      const b = map.getBounds();
      const zoom = Math.round(map.getZoom());
      const items = state.index.getClusters(
        [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], zoom);
      const drawn = [];
      let shown = 0;
      g.textAlign = 'center';
      g.textBaseline = 'middle';
      g.font = 'bold 11px system-ui, sans-serif';
      for (const item of items) {
        const [lon, lat] = item.geometry.coordinates;
        const at = map.latLngToContainerPoint([lat, lon]);
        const p = item.properties;
        if (p.cluster) {
          shown += p.point_count;
          const radius = Math.min(28, 9 + Math.log2(p.point_count) * 2.5);
          g.beginPath();
          g.arc(at.x, at.y, radius, 0, 2 * Math.PI);
          g.fillStyle = 'rgba(29, 43, 58, 0.85)';
          g.fill();
          g.lineWidth = 2;
          g.strokeStyle = '#fff';
          g.stroke();
          g.fillStyle = '#fff';
          g.fillText(String(p.point_count), at.x, at.y);
          drawn.push({ x: at.x, y: at.y, r: radius, item });
        } else {
          shown += 1;
          g.beginPath();
          g.arc(at.x, at.y, 6, 0, 2 * Math.PI);
          g.fillStyle = colourOf(colourKey(p));
          g.fill();
          const status = statusOf(p);
          g.lineWidth = status === 'incident' ? 4 : 2;
          g.strokeStyle = STATUS_RING[status] || '#fff';
          g.stroke();
          drawn.push({ x: at.x, y: at.y, r: 8, item, status });
        }
      }
      this.drawn = drawn;
      state.shown = shown;
      state.drawMs = performance.now() - t0;
    },
    click(event) {
      const at = event.containerPoint;
      let best = null;
      for (const d of this.drawn) {
        const dist = Math.hypot(d.x - at.x, d.y - at.y);
        if (dist <= d.r && (!best || dist < best.dist)) best = { dist, d };
      }
      if (!best) return;
      const { item } = best.d;
      const [lon, lat] = item.geometry.coordinates;
      if (item.properties.cluster) {
        const to = Math.min(state.index.getClusterExpansionZoom(item.properties.cluster_id), 18);
        this._map.setView([lat, lon], to);
      } else {
        L.popup().setLatLng([lat, lon]).setContent(popup(item.properties)).openOn(this._map);
      }
    },
  });

  function render() {
    if (state.layer) state.layer.redraw();
  }

  async function boundaries(config) {
    const styles = {
      city: { color: '#1d2b3a', weight: 2.5, fill: false },
      districts: { color: '#3d5a80', weight: 1.6, fillColor: '#dfe7f0', fillOpacity: 0.35 },
      neighbourhoods: { color: '#8aa0b8', weight: 0.6, fill: false },
    };
    for (const name of ['districts', 'neighbourhoods', 'city']) {
      if (!config.boundaries.includes(name)) continue;
      const data = await api(`/api/console/boundaries/${name}.geojson`);
      const layer = L.geoJSON(data, { style: styles[name], interactive: false });
      layer.addTo(state.map);
      if (name === 'districts') {
        layer.eachLayer((shape) => {
          const label = shape.feature.properties.name_ko;
          if (label) {
            L.tooltip({ permanent: true, direction: 'center', className: 'district-label' })
              .setLatLng(shape.getBounds().getCenter()).setContent(label).addTo(state.map);
          }
        });
      }
    }
    state.map.attributionControl.addAttribution(config.boundary_attribution);
  }

  async function start(me) {
    shell.me = me;
    $('signin-panel').hidden = true;
    $('console').hidden = false;
    $('signout').hidden = false;
    $('nav').hidden = false;
    for (const button of document.querySelectorAll('#nav button')) {
      const roles = button.dataset.roles;
      button.hidden = !!roles && !shell.has(...roles.split(' '));
      button.addEventListener('click', () => showView(button.dataset.view));
    }
    $('who').textContent = `${me.username} · ${me.agency_name || `agency ${me.agency_id}`}`;
    const config = await api('/api/console/config');
    shell.timezone = config.timezone; // dates are shown in the deployment's zone (Asia/Seoul)
    state.map = L.map('map', { preferCanvas: true, minZoom: 9, maxZoom: 19 }).setView(GWANGJU, 11);
    state.map.attributionControl.setPrefix(false);
    if (config.tile_url) {
      L.tileLayer(config.tile_url, { attribution: config.tile_attribution, maxZoom: 19 }).addTo(state.map);
    }
    await boundaries(config);
    const cameras = await api('/api/cameras.geojson');
    state.features = cameras.features;
    fillFilters();
    for (const id of ['f-agency', 'f-district', 'f-purpose', 'f-status', 'f-colour']) {
      $(id).addEventListener('change', apply);
    }
    apply();
    state.layer = new CameraCanvas().addTo(state.map);
    document.body.dataset.ready = 'true';
    for (const listener of shell.onSignIn) listener(me);
  }

  shell.showView = showView;
  // the cameras that live incidents use: rung on the map, and a status of their own
  shell.setInUse = (used) => {
    state.inUse = used;
    if (state.features.length) apply();
  };
  // open a camera's panel by id (an incident's camera, an emergency bell's nearest)
  shell.openCamera = (id) => {
    const feature = state.features.find((f) => f.properties.id === id);
    if (!feature) return;
    showView('map');
    show(feature);
    select(feature.properties);
  };

  function search(text) {
    const q = text.trim().toLowerCase();
    const list = $('results');
    list.replaceChildren();
    if (!q) return;
    const exact = /^#?\d+$/.test(q) ? Number(q.replace('#', '')) : null;
    const hits = state.features.filter((f) => {
      const p = f.properties;
      if (exact !== null) return p.id === exact;
      return [p.name, p.road_address, p.lot_address].some((v) => v && v.toLowerCase().includes(q));
    }).slice(0, 20);
    if (!hits.length) {
      const li = document.createElement('li');
      li.textContent = t('no camera found', '검색 결과 없음');
      list.append(li);
      return;
    }
    for (const f of hits) {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = `#${f.properties.id} ${f.properties.road_address || f.properties.name || ''}`;
      button.addEventListener('click', () => show(f));
      li.append(button);
      list.append(li);
    }
    if (hits.length === 1) show(hits[0]);
  }

  function show(feature) {
    const [lon, lat] = feature.geometry.coordinates;
    state.map.setView([lat, lon], 18);
    L.popup().setLatLng([lat, lon]).setContent(popup(feature.properties)).openOn(state.map);
  }

  setLanguage(preferredLanguage());
  $('lang').addEventListener('click', () => setLanguage(shell.lang === 'ko' ? 'en' : 'ko'));

  $('signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('signin-status').textContent = t('signing in…', '로그인 중…');
    try {
      const issued = await api('/api/auth/token', 'POST', {
        username: $('username').value, password: $('password').value,
      });
      ArgusLive.setBearer(issued.access_token);
      $('password').value = '';
      const me = await api('/api/auth/me');
      $('signin-status').textContent = '';
      await start(me.user);
    } catch (err) {
      ArgusLive.setBearer(null);
      $('signin-status').textContent = `${t('not signed in', '로그인 실패')}: ${err.message}`;
    }
  });
  $('signout').addEventListener('click', () => {
    for (const listener of shell.onSignOut) listener();
    if (state.tile) state.tile.stop('signed out');
    ArgusLive.setBearer(null);
    location.reload();
  });
  $('why').addEventListener('click', rights);
  $('live-form').addEventListener('submit', (event) => {
    event.preventDefault();
    watch();
  });
  $('to-wall').addEventListener('click', () => {
    if (!state.selected || !shell.addToWall) return;
    const tile = shell.addToWall(state.selected.id);
    $('panel-status').textContent = t(
      `camera #${state.selected.id} is on tile ${tile + 1} of the wall`,
      `카메라 #${state.selected.id}: 영상벽 ${tile + 1}번 화면`,
    );
  });
  $('panel-close').addEventListener('click', () => {
    if (state.tile) state.tile.stop('closed by you');
    $('panel').hidden = true;
    state.selected = null;
    state.map.invalidateSize();
    for (const listener of shell.onSelect) listener(null);
  });
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    search($('search').value);
  });
})();
