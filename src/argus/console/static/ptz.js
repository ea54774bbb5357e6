// Console: PTZ control in the camera panel, for a PTZ camera (camera_type 'ptz'). Take control
// for the panel's declared purpose with a reason (and a case number if there is one); move by
// steps (each click of an arrow or zoom button is one relative move: a step cannot run on if a
// button release is lost, and every step is one authorized, audited command); home; a preset
// by its token (Argus has no route listing a camera's presets yet); release. The status line
// says who controls the camera and until when (the lease frees after its idle release unless a
// command renews it) and where it points. While you hold the camera it is asked every 2 s, so
// that a take-over by someone of higher priority shows at once, with who and why; a refused
// command (409) says the same.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const shell = window.ArgusConsole;
  const t = (en, ko) => shell.t(en, ko);
  const ROLES = ['operator', 'supervisor', 'agency_admin', 'responder']; // who may use PTZ
  const POLL_MS = 2000;
  // one step, in ONVIF's generic spaces: pan and tilt span [-1, 1] (on a 360° unit a pan step
  // of 0.05 is 9°), zoom [0, 1]
  const STEPS = {
    left: { pan: -0.05, tilt: 0, zoom: 0 },
    right: { pan: 0.05, tilt: 0, zoom: 0 },
    up: { pan: 0, tilt: 0.05, zoom: 0 },
    down: { pan: 0, tilt: -0.05, zoom: 0 },
    in: { pan: 0, tilt: 0, zoom: 0.1 },
    out: { pan: 0, tilt: 0, zoom: -0.1 },
  };
  const state = { camera: null, holding: false, timer: null, status: null, generation: 0 };
  window.argusPtz = state; // for tests

  function when(iso) {
    return new Date(iso).toLocaleTimeString(shell.lang === 'ko' ? 'ko-KR' : 'en-GB',
      { timeZone: shell.timezone || undefined, hour12: false });
  }

  // "kim (광주광역시, centre operator)"
  function who(holder) {
    return `${holder.name} (${holder.agency_name}, ${holder.class_label})`;
  }

  function isMe(holder) {
    return !!holder && holder.kind === 'user' && !!shell.me && holder.user_id === shell.me.id;
  }

  function say(text, kind = '') {
    const box = $('ptz-message');
    box.textContent = text;
    box.dataset.kind = kind;
  }

  function enable() {
    for (const b of document.querySelectorAll('#ptz [data-needs-control]')) b.disabled = !state.holding;
    $('ptz-take').disabled = state.holding;
  }

  function polling(on) {
    clearInterval(state.timer);
    state.timer = on ? setInterval(refresh, POLL_MS) : null;
  }

  function lost(text, kind) {
    state.holding = false;
    polling(false);
    enable();
    say(text, kind);
  }

  function show(status) {
    state.status = status;
    const control = status.control;
    const line = $('ptz-status');
    let text;
    if (control && isMe(control.holder)) {
      text = t(`You control it until ${when(control.expires_at)} (each command renews it for ${control.idle_release_s} s)`,
        `제어 중: ${when(control.expires_at)}까지 (명령마다 ${control.idle_release_s}초 연장)`);
    } else if (control) {
      text = t(`Controlled by ${who(control.holder)}: ${control.holder.reason}; frees at ${when(control.expires_at)} if idle`,
        `제어 중인 사람: ${who(control.holder)}: ${control.holder.reason}; 명령이 없으면 ${when(control.expires_at)}에 해제`);
    } else if (status.background) {
      text = t(`Free: the ${status.background.name} runs`, `제어 가능: ${status.background.name} 동작 중`);
    } else {
      text = t('Free: nobody controls it', '제어 가능: 제어 중인 사람 없음');
    }
    const p = status.position;
    if (p) {
      text += ` · pan ${p.pan.toFixed(2)} tilt ${p.tilt.toFixed(2)} zoom ${p.zoom.toFixed(2)}`;
      if (p.moving) text += t(' (moving)', ' (이동 중)');
    } else if (status.position_error) {
      text += ` · ${status.position_error}`;
    }
    line.textContent = text;
    line.dataset.holder = control ? control.holder.name : '';
    line.dataset.mine = String(!!control && isMe(control.holder));
  }

  // the camera's PTZ status; while you hold it, whether you still do
  async function refresh() {
    const camera = state.camera;
    const generation = state.generation;
    if (camera === null) return;
    let status;
    try {
      status = await shell.api(`/api/ptz/${camera}`);
    } catch (err) {
      if (generation === state.generation) $('ptz-status').textContent = err.message;
      return;
    }
    if (generation !== state.generation) return; // another camera was chosen meanwhile
    show(status);
    const control = status.control;
    if (state.holding && !(control && isMe(control.holder))) {
      if (control) {
        lost(t(`Taken over by ${who(control.holder)}: ${control.holder.reason}`,
          `${who(control.holder)}이(가) 제어권을 가져감: ${control.holder.reason}`), 'preempted');
      } else {
        lost(t('Your control ended: no command within the idle release',
          '제어 종료: 일정 시간 명령이 없어 해제됨'), 'ended');
      }
    }
  }

  async function take(event) {
    event.preventDefault();
    if (state.camera === null) return;
    const reason = $('ptz-reason').value.trim();
    if (!reason) {
      say(t('Say why you take the camera, e.g. "incident 12: assault"', '제어 사유를 입력하세요 (예: 사건 12 폭행)'), 'refused');
      $('ptz-reason').focus();
      return;
    }
    const body = { purpose: $('purpose').value, reason };
    if ($('ptz-case').value.trim()) body.case_number = $('ptz-case').value.trim();
    const generation = state.generation;
    try {
      const control = await shell.api(`/api/ptz/${state.camera}/control`, 'POST', body);
      if (generation !== state.generation) return;
      state.holding = true;
      say(control.preempted ? t(`You took over from ${who(control.preempted.previous)}`,
        `${who(control.preempted.previous)}에게서 제어권을 가져옴`) : '', 'taken');
      polling(true);
    } catch (err) {
      if (generation !== state.generation) return;
      say(err.message, 'refused'); // a 409 names who holds it; a 403 gives authorize's reason
    }
    enable();
    refresh();
  }

  async function command(path, body) {
    const camera = state.camera;
    if (camera === null || !state.holding) return;
    try {
      await shell.api(`/api/ptz/${camera}/${path}`, 'POST', body);
      if (camera === state.camera) say('');
      setTimeout(refresh, 600); // where the move ended
    } catch (err) {
      if (camera !== state.camera) return;
      if (err.status === 409 || err.status === 403) {
        lost(err.message, err.status === 409 ? 'preempted' : 'refused'); // who took it, and why
      } else {
        say(err.message, 'error'); // the camera did not carry it out; you still hold it
      }
    }
    refresh();
  }

  async function release() {
    const camera = state.camera;
    if (camera === null) return;
    try {
      const ended = await shell.api(`/api/ptz/${camera}/release`, 'POST');
      if (camera !== state.camera) return;
      say(ended.returns_to ? t(`Released: back to the ${ended.returns_to}`, `제어 해제: ${ended.returns_to}(으)로 복귀`)
        : t('Released', '제어 해제'), 'released');
    } catch (err) {
      if (camera === state.camera) say(err.message, 'error');
    }
    if (camera !== state.camera) return;
    state.holding = false;
    polling(false);
    enable();
    refresh();
  }

  // a camera's panel opened (or closed: null); the camera left behind is given back
  function select(props) {
    if (state.holding && state.camera !== null && (!props || props.id !== state.camera)) {
      shell.api(`/api/ptz/${state.camera}/release`, 'POST').catch(() => {});
    }
    state.generation += 1;
    state.holding = false;
    state.status = null;
    polling(false);
    const ptz = !!props && props.camera_type === 'ptz' && shell.has(...ROLES);
    state.camera = ptz ? props.id : null;
    $('ptz').hidden = !ptz;
    say('');
    $('ptz-status').textContent = '';
    $('ptz-status').dataset.holder = '';
    $('ptz-status').dataset.mine = 'false';
    enable();
    if (ptz) refresh();
  }

  shell.onSelect.push(select);
  shell.onSignOut.push(() => select(null));
  document.addEventListener('DOMContentLoaded', () => {
    $('ptz-form').addEventListener('submit', take);
    $('ptz-release').addEventListener('click', release);
    $('ptz-home').addEventListener('click', () => command('home'));
    for (const b of document.querySelectorAll('#ptz-pad button[data-step]')) {
      b.addEventListener('click', () => command('move', { mode: 'relative', ...STEPS[b.dataset.step] }));
    }
    $('ptz-preset-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const preset = $('ptz-preset').value.trim();
      if (preset) command('preset', { preset });
    });
    enable();
  });
})();
