// Argus live tile: one camera's live view, fMP4 from the live WebSocket played with Media Source
// Extensions (protocol: argus.media.live_ws), its stream token asked for and renewed, the reason
// shown when it ends. Shared by the example player (/player/) and the console (/console/).
// No build step, no dependencies. Measurements for tests and benchmarks are kept in
// window.argusStats[tile index]. Exposes window.ArgusLive = { Tile, api, setBearer, hasMse }.
'use strict';

(() => {
  // played video kept behind the playhead (?keep=N seconds, for tests); trim once half as much
  // again has piled up
  const KEEP_SECONDS = Math.max(1, Number(new URLSearchParams(location.search).get('keep')) || 10);
  const TRIM_SLACK = KEEP_SECONDS / 2;
  // Keeping near the live edge. Chromium's clock stops whenever a frame arrives late, so the
  // lag only ever grows by the network's and the decoder's jitter: the player drains it by
  // playing faster, in proportion to how far it is behind the newest frame received (buffered
  // end − currentTime, which includes that frame's own duration). A seek would cost a decode
  // from the keyframe and a new preroll, so it is kept for a lag that playing fast cannot
  // drain soon (a hidden tab, a long stall).
  const LIVE_TARGET = 0.12; // s behind the buffered end aimed at
  const LIVE_GAIN = 2; // playbackRate = 1 + gain × (behind − target), in steps of 0.05 ...
  const LIVE_MAX_RATE = 1.5; // ... up to this
  const LIVE_JUMP = 1.5; // further behind than this: jump to LIVE_TARGET behind the end
  const RENEW_BEFORE_MS = 60000;
  const RENEW_RETRY_MS = 10000;
  const HEVC_PROBE = 'video/mp4; codecs="hvc1.1.6.L93.B0"';
  const CLOSE_TEXT = {
    1001: 'the stream ended',
    1006: 'the connection was lost',
    1011: 'server error',
    4400: 'bad request',
    4401: 'the stream token was refused',
    4403: 'access revoked',
    4404: 'no such camera stream',
    4408: 'this player was too slow',
    4415: 'this browser cannot play the codec',
  };

  const hasMse = typeof window.MediaSource === 'function';
  const hevcOk = hasMse && MediaSource.isTypeSupported(HEVC_PROBE);
  let bearer = null; // the bearer token: in memory only, never stored
  // a page may choose one language (ArgusLive.translate); by default a text shows both
  const tr = (en, ko) => (window.ArgusLive && window.ArgusLive.translate
    ? window.ArgusLive.translate(en, ko) : `${en} (${ko})`);
  window.argusStats = window.argusStats || {};

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      const message = (data && (data.message || (typeof data.detail === 'string' && data.detail)))
        || `${response.status} ${response.statusText}`;
      throw new ApiError(response.status, message);
    }
    return data;
  }

  // -- fMP4 boxes: just enough to know the timescale and where keyframes start ---------------

  const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'moof', 'traf']);

  function walk(view, start, end, visit) {
    let at = start;
    while (at + 8 <= end) {
      let size = view.getUint32(at);
      const type = String.fromCharCode(
        view.getUint8(at + 4), view.getUint8(at + 5), view.getUint8(at + 6), view.getUint8(at + 7));
      let header = 8;
      if (size === 1) {
        size = Number(view.getBigUint64(at + 8));
        header = 16;
      } else if (size === 0) {
        size = end - at;
      }
      if (size < header || at + size > end) return;
      if (CONTAINERS.has(type)) walk(view, at + header, at + size, visit);
      else visit(type, at + header, at + size);
      at += size;
    }
  }

  function timescaleOf(buffer) {
    const view = new DataView(buffer);
    let timescale = 90000;
    walk(view, 0, view.byteLength, (type, at) => {
      if (type === 'mdhd') timescale = view.getUint32(at + (view.getUint8(at) === 1 ? 20 : 12));
    });
    return timescale;
  }

  // decode times (in timescale units) of the fragments whose first sample is a sync sample
  function keyframeTimes(buffer) {
    const view = new DataView(buffer);
    const out = [];
    let base = null;
    walk(view, 0, view.byteLength, (type, at, end) => {
      if (type === 'tfdt') {
        base = view.getUint8(at) === 1 ? Number(view.getBigUint64(at + 4)) : view.getUint32(at + 4);
      } else if (type === 'trun' && base !== null && end - at >= 8) {
        const flags = view.getUint32(at) & 0xffffff;
        let p = at + 8; // version+flags, sample_count
        if (flags & 0x1) p += 4; // data_offset
        let first = null;
        if (flags & 0x4) first = view.getUint32(p); // first_sample_flags
        else if (flags & 0x400) {
          p += (flags & 0x100 ? 4 : 0) + (flags & 0x200 ? 4 : 0);
          if (p + 4 <= end) first = view.getUint32(p);
        }
        if (first !== null && (first & 0x10000) === 0) out.push(base);
        base = null;
      }
    });
    return out;
  }

  // -- a tile: one video, one WebSocket, one SourceBuffer ------------------------------------

  class Tile {
    // index: where its stats go (window.argusStats[index]); label: its number on screen
    constructor(index, label = index + 1) {
      this.index = index;
      this.label = label;
      this.generation = 0;
      this.ws = null;
      this.state = 'empty';
      this.el = document.createElement('article');
      this.el.className = 'tile';
      this.el.dataset.state = 'empty';
      this.el.setAttribute('aria-label', `Tile ${label}`);
      const screen = document.createElement('div');
      screen.className = 'screen';
      this.video = document.createElement('video');
      this.video.muted = true;
      this.video.autoplay = true;
      this.video.playsInline = true;
      this.video.setAttribute('muted', '');
      this.video.setAttribute('playsinline', '');
      this.video.addEventListener('error', () => {
        const error = this.video.error;
        if (!this.free && error) this.stop(`the browser could not play it: ${error.message}`, null);
      });
      this.overlay = document.createElement('p');
      this.overlay.className = 'overlay';
      this.overlay.textContent = tr('empty', '빈 화면');
      screen.append(this.video, this.overlay);
      const bar = document.createElement('div');
      bar.className = 'bar';
      this.title = document.createElement('span');
      this.title.className = 'title';
      this.title.textContent = `Tile ${label}`;
      this.status = document.createElement('span');
      this.status.className = 'status';
      this.status.setAttribute('role', 'status');
      this.status.setAttribute('aria-live', 'polite');
      this.status.textContent = 'empty';
      this.note = document.createElement('span');
      this.note.className = 'note';
      this.note.setAttribute('role', 'status');
      this.closeButton = document.createElement('button');
      this.closeButton.type = 'button';
      this.closeButton.textContent = tr('Close', '닫기');
      this.closeButton.disabled = true;
      this.closeButton.addEventListener('click', () => this.stop('closed by you'));
      bar.append(this.title, this.status, this.note, this.closeButton);
      this.el.append(screen, bar);
    }

    get free() {
      return this.state === 'empty' || this.state === 'closed';
    }

    setState(state, text) {
      this.state = state;
      this.el.dataset.state = state;
      if (this.stats) this.stats.state = state;
      if (this.status.textContent !== text) this.status.textContent = text;
      this.closeButton.disabled = this.free;
    }

    showOverlay(text) {
      this.overlay.textContent = text;
      this.overlay.hidden = !text;
    }

    async open(cameraId, purpose, mode) {
      this.teardown();
      const gen = this.generation;
      const stats = {
        camera: cameraId, purpose, mode, requestedAt: performance.now(), tokenAt: null,
        wsOpenAt: null, initAt: null, firstFragmentAt: null, firstFrameAt: null, frames: 0,
        behindLiveMs: null, jumps: 0, trims: 0, renewals: 0, videoWidth: 0, videoHeight: 0,
        closedCode: null, closedReason: null, state: 'connecting',
      };
      this.stats = stats;
      window.argusStats[this.index] = stats;
      this.camera = cameraId;
      this.title.textContent = `Tile ${this.label} · camera ${cameraId}`;
      this.video.setAttribute('aria-label', `camera ${cameraId}, live video`);
      this.note.textContent = '';
      this.el.setAttribute('aria-label', `Tile ${this.label}: camera ${cameraId}`);
      this.setState('connecting', tr('connecting…', '연결 중…'));
      this.showOverlay(tr('connecting…', '연결 중…'));
      if (!hasMse) {
        this.fail(null, 'this browser has no Media Source Extensions');
        return;
      }
      // the media source opens while the token is asked for
      this.queue = [];
      this.sb = null;
      this.mime = null;
      this.timescale = 90000;
      this.keyframes = [];
      this.trimmedTo = 0;
      this.started = false;
      this.ms = new MediaSource();
      this.url = URL.createObjectURL(this.ms);
      const opened = new Promise((resolve) => {
        this.ms.addEventListener('sourceopen', resolve, { once: true });
      });
      this.video.src = this.url;
      // the token, and where the camera is served (its media worker, or this server), at once
      const where = api('GET', `/api/live/${cameraId}/endpoint`).catch(() => null);
      let issued;
      try {
        issued = await api('POST', '/api/access/token', {
          camera_id: cameraId, capability: 'live', purpose,
        });
      } catch (err) {
        if (gen === this.generation) this.fail(null, `refused: ${err.message}`);
        return;
      }
      const endpoint = await where;
      if (gen !== this.generation) return;
      stats.tokenAt = performance.now();
      this.token = issued.token;
      this.scheduleRenew(issued.expires_at);
      await opened;
      if (gen !== this.generation) return;
      const params = new URLSearchParams({ token: issued.token, stream: 'main' });
      if (mode === 'next_keyframe') {
        params.set('start', 'next_keyframe');
        params.set('catchup', 'none');
      }
      if (hevcOk) params.set('hevc', '1');
      const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
      const base = (endpoint && endpoint.live_ws) || `${scheme}://${location.host}/api/live/${cameraId}`;
      const ws = new WebSocket(`${base}?${params}`);
      ws.binaryType = 'arraybuffer';
      this.ws = ws;
      this.expectInit = false;
      ws.onopen = () => {
        stats.wsOpenAt = performance.now();
      };
      ws.onmessage = (event) => this.onMessage(event.data);
      ws.onclose = (event) => {
        if (gen !== this.generation) return;
        const reason = event.reason || CLOSE_TEXT[event.code] || `code ${event.code}`;
        this.fail(event.code, reason);
      };
      this.watchFrames(gen);
    }

    onMessage(data) {
      if (typeof data === 'string') {
        let message;
        try {
          message = JSON.parse(data);
        } catch (_) {
          return;
        }
        if (message.type === 'init') this.onInit(message);
        else if (message.type === 'renewed') this.stats.renewedAt = performance.now();
        else if (message.type === 'error') this.note.textContent = `server: ${message.message}`;
        return;
      }
      if (this.expectInit) {
        this.expectInit = false;
        this.timescale = timescaleOf(data);
      } else {
        if (this.stats.firstFragmentAt === null) this.stats.firstFragmentAt = performance.now();
        for (const t of keyframeTimes(data)) this.keyframes.push(t / this.timescale);
      }
      this.queue.push(data);
      this.pump();
    }

    onInit(message) {
      const stats = this.stats;
      if (stats.initAt === null) stats.initAt = performance.now();
      stats.codec = message.codec;
      if (!MediaSource.isTypeSupported(message.mime)) {
        this.stop(`${message.codec}: this browser cannot decode it (${message.mime}); `
          + 'open the camera in an external player', null);
        return;
      }
      this.expectInit = true;
      if (this.sb === null) {
        const sb = this.ms.addSourceBuffer(message.mime);
        sb.mode = 'segments';
        sb.addEventListener('updateend', () => {
          if (sb === this.sb) this.onUpdateEnd();
        });
        sb.addEventListener('error', () => {
          if (sb === this.sb) this.stop('the browser could not decode the video', null);
        });
        this.sb = sb;
      } else if (message.mime !== this.mime && typeof this.sb.changeType === 'function') {
        this.queue.push({ changeType: message.mime });
      }
      this.mime = message.mime;
    }

    pump() {
      const sb = this.sb;
      if (sb === null || sb.updating || this.ms.readyState !== 'open') return;
      while (this.queue.length) {
        const next = this.queue[0];
        if (next.changeType) {
          sb.changeType(next.changeType);
          this.queue.shift();
          continue;
        }
        if (this.trim()) return;
        try {
          sb.appendBuffer(next);
          this.queue.shift();
        } catch (err) {
          if (err.name === 'QuotaExceededError' && this.trim(true)) return;
          this.stop(`player error: ${err.message}`, null);
        }
        return;
      }
    }

    // remove played video older than KEEP_SECONDS, cutting only at a keyframe
    trim(force = false) {
      const buffered = this.sb.buffered;
      if (!buffered.length) return false;
      const start = buffered.start(0);
      const keep = this.video.currentTime - (force ? 1 : KEEP_SECONDS);
      if (!force && keep - start < TRIM_SLACK) return false;
      let cut = null;
      for (const t of this.keyframes) if (t <= keep) cut = t;
      // each cut lies past the previous one by a margin: buffered.start after a removal is not
      // exactly the keyframe's decode time (B-frames, rounding), and a sliver is not worth it
      if (cut === null || cut <= Math.max(start, this.trimmedTo) + 0.25) return false;
      this.keyframes = this.keyframes.filter((t) => t > cut);
      this.trimmedTo = cut;
      this.sb.remove(start, cut);
      this.stats.trims += 1;
      return true;
    }

    onUpdateEnd() {
      const buffered = this.sb.buffered;
      if (!this.started && buffered.length) {
        // the fragments carry the camera's clock, not 0: start at the first buffered frame
        this.started = true;
        this.video.currentTime = buffered.start(0);
        this.video.play().catch(() => {});
      }
      this.keepLive();
      this.pump();
    }

    keepLive() {
      const video = this.video;
      const buffered = video.buffered;
      if (!this.started || !buffered.length) return;
      const end = buffered.end(buffered.length - 1);
      let behind = end - video.currentTime;
      // a playhead left in an older range (the camera's times jumped) would wait there forever;
      // one a few ms before the only range is just starting
      const stranded = buffered.length > 1 && video.currentTime < buffered.start(buffered.length - 1);
      if (behind > LIVE_JUMP || stranded) {
        this.stats.lastJump = {
          fromMs: Math.round(behind * 1000), ranges: buffered.length, at: video.currentTime,
        };
        video.currentTime = end - LIVE_TARGET;
        this.stats.jumps += 1;
        behind = LIVE_TARGET;
      }
      const excess = Math.max(0, behind - LIVE_TARGET);
      const rate = Math.min(LIVE_MAX_RATE, 1 + Math.round(LIVE_GAIN * excess * 20) / 20);
      if (video.playbackRate !== rate) video.playbackRate = rate;
      this.stats.behindLiveMs = Math.round(behind * 1000);
      if (this.state === 'live' || this.state === 'behind') this.showLag();
    }

    showLag() {
      const ms = this.stats.behindLiveMs;
      // in steps of 100 ms, so that a screen reader is not told every frame
      if (ms !== null && ms > 300) {
        const lag = Math.round(ms / 100) * 100;
        this.setState('behind', tr(`behind by ${lag} ms`, `${lag} ms 지연`));
      } else {
        this.setState('live', tr('live', '실시간'));
      }
    }

    watchFrames(gen) {
      const video = this.video;
      if (typeof video.requestVideoFrameCallback !== 'function') return;
      const onFrame = (_now, meta) => {
        if (gen !== this.generation) return;
        const stats = this.stats;
        stats.frames += 1;
        if (stats.firstFrameAt === null) {
          stats.firstFrameAt = performance.now();
          stats.firstFrameMediaTime = meta.mediaTime;
          stats.videoWidth = video.videoWidth;
          stats.videoHeight = video.videoHeight;
          this.showOverlay('');
          this.setState('live', tr('live', '실시간'));
        }
        this.keepLive();
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    }

    scheduleRenew(expiresAt) {
      clearTimeout(this.renewTimer);
      const gen = this.generation;
      const delay = Math.max(5000, Date.parse(expiresAt) - Date.now() - RENEW_BEFORE_MS);
      this.renewTimer = setTimeout(() => this.renew(gen), delay);
    }

    async renew(gen) {
      if (gen !== this.generation || this.ws === null) return;
      try {
        const issued = await api('POST', '/api/access/token/renew', { token: this.token });
        if (gen !== this.generation) return;
        this.token = issued.token;
        this.ws.send(JSON.stringify({ type: 'renew', token: issued.token }));
        this.stats.renewals += 1;
        this.note.textContent = '';
        this.scheduleRenew(issued.expires_at);
      } catch (err) {
        if (gen !== this.generation) return;
        // the view goes on until the old token expires; the server then closes it with 4401
        this.note.textContent = `token renewal failed: ${err.message}`;
        this.renewTimer = setTimeout(() => this.renew(gen), RENEW_RETRY_MS);
      }
    }

    // end the view: the picture goes (a revoked grant must not leave video on screen)
    teardown() {
      this.generation += 1;
      clearTimeout(this.renewTimer);
      if (this.ws !== null) {
        this.ws.onopen = this.ws.onmessage = this.ws.onclose = null;
        if (this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000);
        this.ws = null;
      }
      this.sb = null;
      this.queue = [];
      if (this.ms && this.ms.readyState === 'open') {
        try {
          this.ms.endOfStream();
        } catch (_) {
          // already ended
        }
      }
      this.ms = null;
      if (this.url) {
        this.video.removeAttribute('src');
        this.video.load();
        URL.revokeObjectURL(this.url);
        this.url = null;
      }
      this.video.playbackRate = 1;
    }

    fail(code, reason) {
      if (this.stats) {
        this.stats.closedCode = code;
        this.stats.closedReason = reason;
      }
      this.teardown();
      this.setState('closed', `closed: ${reason}`);
      this.showOverlay(reason);
    }

    stop(reason, code = 1000) {
      this.fail(code, reason);
    }
  }

  window.ArgusLive = {
    Tile,
    api,
    hasMse,
    translate: null,
    setBearer(token) { bearer = token; },
    bearer() { return bearer; },
  };
})();
