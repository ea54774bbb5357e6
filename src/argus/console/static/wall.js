// Console: the video wall. Layouts of 1, 4, 9 and 16 live tiles (the tiles of live-tile.js, each
// saying why it is black: refused, offline, revoked, expired); cameras dragged onto tiles from a
// list, or sent from the map's camera panel; a sequence that cycles a group of cameras in one
// tile; the wall saved for the user (/api/console/wall) and restored at the next sign-in.
// Keys, while the wall is shown: 1 2 3 4 pick the layout, arrows move the focus between tiles,
// F shows the focused tile full screen, Delete empties it.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const shell = window.ArgusConsole;
  const t = (en, ko) => shell.t(en, ko);
  const SIZES = [1, 4, 9, 16];
  const wall = {
    size: 4, tiles: [], cameras: Array(16).fill(null), focus: 0, purpose: 'crime_prevention',
    sequence: null, timer: null, loaded: false, loading: null, saving: null,
  };
  window.argusWall = wall; // for tests

  function tile(i) {
    if (!wall.tiles[i]) {
      const made = new ArgusLive.Tile(100 + i, i + 1); // stats at window.argusStats[100 + i]
      made.el.tabIndex = 0;
      made.el.dataset.tile = String(i);
      made.el.addEventListener('focus', () => setFocus(i));
      made.el.addEventListener('dragover', (event) => {
        event.preventDefault();
        made.el.classList.add('drop');
      });
      made.el.addEventListener('dragleave', () => made.el.classList.remove('drop'));
      made.el.addEventListener('drop', (event) => {
        event.preventDefault();
        made.el.classList.remove('drop');
        const id = Number(event.dataTransfer.getData('text/plain'));
        if (Number.isInteger(id) && id > 0) put(i, id);
      });
      made.closeButton.addEventListener('click', () => {
        wall.cameras[i] = null;
        save();
      });
      wall.tiles[i] = made;
    }
    return wall.tiles[i];
  }

  function setFocus(i) {
    wall.focus = i;
    wall.tiles.forEach((t, n) => t && t.el.classList.toggle('focused', n === i));
  }

  function layout(size, persist = true) {
    if (!SIZES.includes(size)) return;
    wall.size = size;
    const grid = $('wall');
    grid.dataset.size = String(size);
    for (let i = size; i < wall.tiles.length; i += 1) {
      if (wall.tiles[i] && !wall.tiles[i].free) wall.tiles[i].stop('not on this layout');
    }
    grid.replaceChildren(...Array.from({ length: size }, (_, i) => tile(i).el));
    for (let i = 0; i < size; i += 1) {
      if (wall.cameras[i] && tile(i).free) tile(i).open(wall.cameras[i], wall.purpose, 'instant');
    }
    for (const b of document.querySelectorAll('#wall-sizes button')) {
      b.setAttribute('aria-pressed', String(Number(b.dataset.size) === size));
    }
    if (wall.focus >= size) setFocus(0);
    if (persist) save();
  }

  function put(i, cameraId, persist = true) {
    wall.cameras[i] = cameraId;
    tile(i).open(cameraId, wall.purpose, 'instant');
    if (persist) save();
  }

  function empty(i) {
    if (wall.tiles[i] && !wall.tiles[i].free) wall.tiles[i].stop('emptied');
    wall.cameras[i] = null;
    save();
  }

  function save() {
    clearTimeout(wall.saving);
    wall.saving = setTimeout(async () => {
      const body = {
        size: wall.size,
        tiles: wall.cameras.slice(0, wall.size),
        purpose: wall.purpose,
        sequence: wall.sequence,
      };
      try {
        await shell.api('/api/console/wall', 'PUT', body);
        $('wall-status').dataset.saved = String(Date.now());
      } catch (err) {
        $('wall-status').textContent = `the wall was not saved: ${err.message}`;
      }
    }, 300);
  }

  function startSequence(sequence, persist = true) {
    clearInterval(wall.timer);
    wall.sequence = sequence;
    let next = 0;
    const step = () => {
      put(sequence.tile, sequence.cameras[next % sequence.cameras.length], false);
      next += 1;
    };
    step();
    wall.timer = setInterval(step, sequence.seconds * 1000);
    $('wall-status').textContent = `tile ${sequence.tile + 1} cycles ${sequence.cameras.length} cameras every ${sequence.seconds} s`;
    if (persist) save();
  }

  function stopSequence() {
    clearInterval(wall.timer);
    wall.timer = null;
    wall.sequence = null;
    $('wall-status').textContent = 'sequence stopped';
    save();
  }

  function search(text) {
    const q = text.trim().toLowerCase();
    const list = $('wall-results');
    list.replaceChildren();
    if (!q) return;
    const exact = /^#?\d+$/.test(q) ? Number(q.replace('#', '')) : null;
    const features = (window.argusConsole && window.argusConsole.features) || [];
    const hits = features.filter((f) => {
      const p = f.properties;
      if (exact !== null) return p.id === exact;
      return [p.name, p.road_address, p.lot_address].some((v) => v && v.toLowerCase().includes(q));
    }).slice(0, 30);
    for (const f of hits) {
      const li = document.createElement('li');
      li.draggable = true;
      li.dataset.camera = String(f.properties.id);
      li.textContent = `#${f.properties.id} ${f.properties.road_address || f.properties.name || ''} · ${f.properties.owner_name}`;
      li.addEventListener('dragstart', (event) => {
        event.dataTransfer.setData('text/plain', String(f.properties.id));
        event.dataTransfer.effectAllowed = 'copy';
      });
      list.append(li);
    }
    if (!hits.length) list.append(Object.assign(document.createElement('li'), { textContent: t('no camera found', '검색 결과 없음') }));
  }

  function onKey(event) {
    if ($('view-wall').hidden || ['INPUT', 'SELECT', 'TEXTAREA'].includes(event.target.tagName)) return;
    const cols = Math.sqrt(wall.size);
    const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols };
    if (['1', '2', '3', '4'].includes(event.key)) {
      layout(SIZES[Number(event.key) - 1]);
    } else if (event.key in moves) {
      const to = wall.focus + moves[event.key];
      if (to >= 0 && to < wall.size) tile(to).el.focus();
    } else if (event.key === 'f' || event.key === 'F') {
      const el = tile(wall.focus).el;
      if (document.fullscreenElement) document.exitFullscreen();
      else if (el.requestFullscreen) el.requestFullscreen().catch(() => {});
    } else if (event.key === 'Delete' || event.key === 'Backspace') {
      empty(wall.focus);
    } else {
      return;
    }
    event.preventDefault();
  }

  // the saved wall, read once (every caller waits for the same read)
  function load() {
    if (!wall.loading) wall.loading = restore();
    return wall.loading;
  }

  async function restore() {
    let saved;
    try {
      saved = await shell.api('/api/console/wall');
    } catch (err) {
      $('wall-status').textContent = `the saved wall could not be read: ${err.message}`;
      saved = { size: 4, tiles: [], purpose: wall.purpose, sequence: null };
    }
    wall.purpose = saved.purpose || wall.purpose;
    $('wall-purpose').value = wall.purpose;
    saved.tiles.forEach((id, i) => { wall.cameras[i] = id; });
    layout(saved.size, false);
    setFocus(0);
    if (saved.sequence) startSequence(saved.sequence, false);
    wall.loaded = true;
    $('wall').dataset.ready = 'true';
  }

  // put these cameras on the wall in place of what it shows (an incident's cameras): the
  // smallest layout that holds them, watched for `purpose`
  shell.showOnWall = async (cameraIds, purpose) => {
    await load();
    if (wall.timer) stopSequence();
    const shown = cameraIds.slice(0, 16);
    const size = SIZES.find((s) => s >= shown.length) || 16;
    if (purpose && purpose !== wall.purpose) {
      wall.purpose = purpose;
      $('wall-purpose').value = purpose;
    }
    wall.tiles.forEach((made, i) => {
      if (made && !made.free && i >= shown.length) made.stop('emptied');
    });
    wall.cameras.fill(null);
    layout(size, false);
    shown.forEach((id, i) => put(i, id, false));
    setFocus(0);
    save();
    return size;
  };

  shell.addToWall = (cameraId) => {
    let i = wall.cameras.slice(0, wall.size).indexOf(null);
    if (i < 0) i = wall.focus;
    if (!wall.loaded) {
      load().then(() => {
        let free = wall.cameras.slice(0, wall.size).indexOf(null);
        if (free < 0) free = wall.focus;
        put(free, cameraId);
      });
    } else {
      put(i, cameraId);
    }
    return i;
  };

  document.addEventListener('DOMContentLoaded', () => {
    for (const b of document.querySelectorAll('#wall-sizes button')) {
      b.addEventListener('click', () => layout(Number(b.dataset.size)));
    }
    $('wall-purpose').addEventListener('change', () => {
      wall.purpose = $('wall-purpose').value;
      for (let i = 0; i < wall.size; i += 1) if (wall.cameras[i]) put(i, wall.cameras[i], false);
      save();
    });
    $('wall-search-form').addEventListener('submit', (event) => {
      event.preventDefault();
      search($('wall-search').value);
    });
    $('sequence-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const cameras = $('sequence-cameras').value.split(/[\s,]+/).filter(Boolean).map(Number)
        .filter((n) => Number.isInteger(n) && n > 0);
      const seconds = Number($('sequence-seconds').value);
      if (cameras.length < 2 || !(seconds >= 3)) {
        $('wall-status').textContent = 'a sequence needs two or more camera ids and at least 3 s';
        return;
      }
      startSequence({ tile: wall.focus, cameras, seconds });
    });
    $('sequence-stop').addEventListener('click', stopSequence);
    document.addEventListener('keydown', onKey);
  });

  shell.views.wall = { load };
})();
