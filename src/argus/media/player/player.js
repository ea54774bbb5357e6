// Argus example live player: sign in, ask for a stream token, play up to four cameras (the tiles
// of live-tile.js). No build step, no dependencies.
'use strict';

(() => {
  const MAX_TILES = 4;
  const { Tile, api, hasMse, setBearer } = window.ArgusLive;
  const $ = (id) => document.getElementById(id);
  const tiles = [];

  // -- the page --------------------------------------------------------------------------

  function freeTile() {
    return tiles.find((t) => t.free) || null;
  }

  function openCamera(cameraId) {
    const status = $('open-status');
    if (!Number.isInteger(cameraId) || cameraId <= 0) {
      status.textContent = 'Enter a camera id (a positive number).';
      return;
    }
    const tile = freeTile();
    if (tile === null) {
      status.textContent = `All ${MAX_TILES} tiles are in use: close one first. (화면이 모두 사용 중)`;
      return;
    }
    status.textContent = '';
    tile.open(cameraId, $('purpose').value, $('start-mode').value);
  }

  async function signIn(event) {
    event.preventDefault();
    const status = $('signin-status');
    status.textContent = 'signing in… (로그인 중)';
    try {
      const result = await api('POST', '/api/auth/token', {
        username: $('username').value, password: $('password').value,
      });
      setBearer(result.access_token);
    } catch (err) {
      status.textContent = `Sign-in failed: ${err.message}`;
      return;
    } finally {
      $('password').value = '';
    }
    status.textContent = '';
    $('who').textContent = `Signed in as ${$('username').value}.`;
    $('signin-panel').hidden = true;
    $('open-panel').hidden = false;
    $('camera-id').focus();
  }

  function signOut() {
    for (const tile of tiles) if (!tile.free) tile.stop('signed out');
    setBearer(null);
    $('results').replaceChildren();
    $('open-panel').hidden = true;
    $('signin-panel').hidden = false;
    $('username').focus();
  }

  async function search(event) {
    event.preventDefault();
    const list = $('results');
    const q = $('search').value.trim();
    const params = new URLSearchParams({ limit: '10' });
    if (q) params.set('q', q);
    try {
      const page = await api('GET', `/api/cameras?${params}`);
      const items = page.items.map((camera) => {
        const li = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = 'Open (열기)';
        button.addEventListener('click', () => openCamera(camera.id));
        const place = camera.name || camera.road_address || camera.lot_address || '';
        li.append(`#${camera.id} ${place} · ${camera.owner_name} `, button);
        return li;
      });
      if (!items.length) items.push(Object.assign(document.createElement('li'), {
        textContent: 'No camera found. (검색 결과 없음)',
      }));
      list.replaceChildren(...items);
    } catch (err) {
      list.replaceChildren(Object.assign(document.createElement('li'), {
        textContent: `Search failed: ${err.message}`,
      }));
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    const grid = $('grid');
    for (let i = 0; i < MAX_TILES; i += 1) {
      const tile = new Tile(i);
      tiles.push(tile);
      grid.append(tile.el);
    }
    $('signin-form').addEventListener('submit', signIn);
    $('signout').addEventListener('click', signOut);
    $('search-form').addEventListener('submit', search);
    $('open-form').addEventListener('submit', (event) => {
      event.preventDefault();
      openCamera(Number($('camera-id').value));
    });
    if (!hasMse) $('open-status').textContent = 'This browser has no Media Source Extensions.';
  });
})();
