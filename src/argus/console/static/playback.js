// Console: recorded video in the camera panel. The timeline of the last hour (recorded stretches
// and gaps, from /api/playback/{id}/timeline), a click on it plays from that moment over the
// playback WebSocket (argus.recording.playback_ws) with Media Source Extensions, at ×1, ×2, ×4
// or ×8, the recorded time of the picture shown as it plays. Every request carries a playback
// token for the panel's purpose: a refusal shows authorize's reason.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const shell = window.ArgusConsole;
  const t = (en, ko) => shell.t(en, ko);
  const HOUR = 60 * 60 * 1000;
  const pb = { token: null, camera: null, from: null, until: null, ws: null, ms: null, sb: null,
    queue: [], pendingSeek: null, positions: [], speed: 1, clock: null };
  window.argusPlayback = pb; // for tests

  const iso = (ms) => new Date(ms).toISOString();

  function stamp(ms) {
    return new Date(ms).toLocaleTimeString('sv-SE', { hour12: false, timeZone: shell.timezone || undefined });
  }

  function say(text) {
    $('pb-status').textContent = text;
  }

  function stop() {
    if (pb.ws) {
      pb.ws.onmessage = pb.ws.onclose = null;
      pb.ws.close(1000);
      pb.ws = null;
    }
    clearInterval(pb.clock);
    pb.sb = null;
    pb.queue = [];
    const video = $('pb-video');
    video.removeAttribute('src');
    video.load();
  }

  async function timeline(camera) {
    stop();
    pb.camera = camera;
    pb.until = Date.now() - 1000;
    pb.from = pb.until - HOUR;
    const bar = $('pb-bar');
    bar.replaceChildren();
    try {
      const issued = await shell.api('/api/access/token', 'POST', {
        camera_id: camera, capability: 'playback', purpose: $('purpose').value,
      });
      pb.token = issued.token;
      const q = new URLSearchParams({ token: pb.token, from: iso(pb.from), until: iso(pb.until) });
      const line = await shell.api(`/api/playback/${camera}/timeline?${q}`);
      const span = pb.until - pb.from;
      for (const [kind, list] of [['recorded', line.recorded], ['gap', line.gaps]]) {
        for (const s of list) {
          const part = document.createElement('span');
          part.className = kind;
          const a = Date.parse(s.from);
          const b = Date.parse(s.until);
          part.style.left = `${((a - pb.from) / span) * 100}%`;
          part.style.width = `${Math.max(0.2, ((b - a) / span) * 100)}%`;
          part.title = `${kind === 'recorded' ? t('recorded', '녹화') : t('gap', '녹화 없음')} ${stamp(a)} ~ ${stamp(b)}`;
          bar.append(part);
        }
      }
      bar.dataset.recorded = String(line.recorded.length);
      bar.dataset.gaps = String(line.gaps.length);
      say(line.recorded.length
        ? t(`${Math.round(line.recorded_seconds / 60)} min recorded in the last hour; click the bar to play`,
          `최근 1시간 중 ${Math.round(line.recorded_seconds / 60)}분 녹화; 막대를 눌러 재생`)
        : t('nothing recorded in the last hour', '녹화 없음'));
    } catch (err) {
      pb.token = null;
      say(`no playback: ${err.message}`);
    }
  }

  function pump() {
    if (pb.sb && !pb.sb.updating && pb.queue.length) pb.sb.appendBuffer(pb.queue.shift());
  }

  function settle() {
    const video = $('pb-video');
    const b = video.buffered;
    for (let i = 0; pb.pendingSeek !== null && i < b.length; i += 1) {
      if (b.start(i) <= pb.pendingSeek && pb.pendingSeek < b.end(i)) {
        video.currentTime = pb.pendingSeek;
        pb.pendingSeek = null;
      }
    }
  }

  function shown() {
    const video = $('pb-video');
    const now = video.currentTime;
    let last = null;
    for (const p of pb.positions) if (p.media_time <= now + 1e-3) last = p;
    if (!last) return null;
    return Date.parse(last.wall) + (now - last.media_time) * 1000 * pb.speed;
  }

  async function play(at) {
    if (!pb.token) return;
    if (pb.ws) {
      pb.ws.send(JSON.stringify({ type: 'seek', to: iso(at), speed: pb.speed }));
      return;
    }
    const video = $('pb-video');
    pb.ms = new MediaSource();
    pb.positions = [];
    video.src = URL.createObjectURL(pb.ms);
    await new Promise((resolve) => pb.ms.addEventListener('sourceopen', resolve, { once: true }));
    const q = new URLSearchParams({
      token: pb.token, from: iso(pb.from), until: iso(pb.until), at: iso(at), speed: String(pb.speed),
    });
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/api/playback/${pb.camera}?${q}`);
    ws.binaryType = 'arraybuffer';
    pb.ws = ws;
    ws.onmessage = (event) => {
      if (typeof event.data !== 'string') {
        pb.queue.push(event.data);
        pump();
        return;
      }
      const m = JSON.parse(event.data);
      if (m.type === 'init' && !pb.sb) {
        if (!MediaSource.isTypeSupported(m.mime)) {
          say(`this browser cannot play ${m.codec}: use the HLS playlist in an external player`);
          stop();
          return;
        }
        pb.sb = pb.ms.addSourceBuffer(m.mime);
        pb.sb.addEventListener('updateend', () => { settle(); pump(); });
      } else if (m.type === 'position') {
        pb.positions.push(m);
      } else if (m.type === 'gap') {
        say(`${t('no recording', '녹화 없음')} ${stamp(Date.parse(m.from))} ~ ${stamp(Date.parse(m.until))}`);
      } else if (m.type === 'seeked') {
        pb.positions = pb.positions.filter((p) => p.media_time < m.media_time);
        pb.pendingSeek = m.media_time;
      } else if (m.type === 'end') {
        say(t('end of the range', '끝'));
      } else if (m.type === 'error') {
        say(m.message);
      }
    };
    ws.onclose = (event) => {
      if (pb.ws === ws) {
        pb.ws = null;
        say(`playback closed: ${event.reason || event.code}`);
      }
    };
    video.play().catch(() => {});
    clearInterval(pb.clock);
    pb.clock = setInterval(() => {
      const moment = shown();
      if (moment !== null) $('pb-clock').textContent = `${stamp(moment)} ×${pb.speed}`;
    }, 250);
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('pb-bar').addEventListener('click', (event) => {
      const box = $('pb-bar').getBoundingClientRect();
      const at = pb.from + ((event.clientX - box.left) / box.width) * (pb.until - pb.from);
      play(Math.max(pb.from, Math.min(at, pb.until - 2000)));
    });
    $('pb-speed').addEventListener('change', () => {
      pb.speed = Number($('pb-speed').value);
      const moment = shown();
      if (pb.ws && moment !== null) pb.ws.send(JSON.stringify({ type: 'seek', to: iso(moment), speed: pb.speed }));
    });
    $('pb-load').addEventListener('click', () => {
      if (shell.selected) timeline(shell.selected.id);
    });
  });

  shell.playback = { timeline, stop };
})();
