// The meeting page (/demo/): join a channel by link, see and hear everyone in it.
//
// Links: /demo/#token=<access token>[&name=<display name>][&join=0]. The access token
// (a JWT) names its app, channel and user in its claims, so the page shows them before
// joining and joins at once (join=0: wait for the Join button). The older query form
// /demo/?token=...&join=1, and the classic fields (appId, channelId, userId, timestamp,
// nonce, token, role, profile) in the query or the "Advanced" form, still work.
//
// In the call: a tile per participant (name, speaking ring, muted microphone, camera
// placeholder), microphone / camera mute, device pickers (switching while publishing
// uses parley.js setAudioInputDevice / setVideoInputDevice), screen share, leave, a
// network-quality meter (parley.js grades 0 excellent .. 4 very bad, 5 down, 6 unmeasured) and statistics that read
// "—" until measured. Errors show their catalog code, message and advice; a removal by
// the server (0x02010105: kicked, app disabled, ...) stays on screen and ends the call.
//
// For tests: window.parleyEngine is the engine, window.parleyDemo.callState the label.
import { createEngine, ErrorCode } from '/sdk/parley.js';
import { lookup } from '/sdk/errors.js';

const $ = (id) => document.getElementById(id);
const form = $('join');
const fields = form.elements;

// ---- the link ---------------------------------------------------------------------
const query = new URLSearchParams(location.search);
const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
for (const params of [query, fragment]) {
  for (const [k, v] of params) if (fields[k] && fields[k].type !== 'submit') fields[k].value = v;
  if (params.get('name')) fields.userName.value = params.get('name');
}
if (!fields.userId.value) fields.userId.value = `user${Math.floor(Math.random() * 10000)}`;

/** The claims of an access token (JWT), or null: base64url JSON, nothing verified here. */
function tokenClaims(token) {
  const parts = (token || '').split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = new TextDecoder().decode(Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0)));
    const claims = JSON.parse(json);
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}

function describeToken() {
  const claims = tokenClaims(fields.token.value.trim());
  if (claims) {
    // The claims decide; mirror them into the advanced fields so they show what is used.
    if (claims.appId) fields.appId.value = claims.appId;
    if (claims.channelId) fields.channelId.value = claims.channelId;
    if (claims.userId) fields.userId.value = claims.userId;
    if (claims.exp) fields.timestamp.value = claims.exp;
    const expired = claims.exp && claims.exp * 1000 < Date.now();
    $('tokenInfo').textContent = `Channel ${claims.channelId || '?'} as ${claims.userId || '?'}` +
      (claims.role === 'audience' ? ' (audience)' : '') +
      (claims.exp ? ` · token ${expired ? 'expired' : 'valid until'} ${new Date(claims.exp * 1000).toLocaleString()}` : '');
  }
  const channel = claims?.channelId || fields.channelId.value.trim();
  const user = claims?.userId || fields.userId.value.trim();
  $('channelName').textContent = channel ? `#${channel}` : 'no channel yet';
  $('userName').textContent = user ? `as ${fields.userName.value.trim() || user}` : '';
  return claims;
}
describeToken();
for (const name of ['token', 'channelId', 'userId', 'userName']) fields[name].addEventListener('input', describeToken);

// ---- engine and state ---------------------------------------------------------------
const engine = createEngine();
window.parleyEngine = engine;
const demo = { callState: 'idle', me: null, removal: null };
window.parleyDemo = demo;

const kStateLabel = {
  idle: 'not in a call', joining: 'joining…', 'in-call': 'in call', reconnecting: 'reconnecting…',
  left: 'left', removed: 'removed', failed: 'call failed',
};
function setCallState(state) {
  demo.callState = state;
  $('state').textContent = kStateLabel[state];
  $('state').dataset.state = state;
  document.body.dataset.call = state;
  const inCall = state === 'in-call' || state === 'reconnecting';
  $('call').hidden = !inCall;
  $('lobby').hidden = inCall || state === 'joining';
  $('joinBtn').disabled = state === 'joining';
  $('joinBtn').textContent = state === 'left' || state === 'removed' || state === 'failed' ? 'Join again' : 'Join';
  for (const id of ['micBtn', 'camBtn', 'screenBtn', 'leaveBtn']) $(id).disabled = !inCall;
  if (!inCall) resetStats();
}

const log = (text) => {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $('log').prepend(li);
};

const kRemovalReason = {
  kicked: 'An administrator removed you from the call.',
  'app-disabled': 'The app was disabled by its administrator.',
  replaced: 'You joined this channel again from another tab or device.',
  'heartbeat-lost': 'The server stopped hearing from this page.',
  'connection-lost': 'The connection was lost for too long.',
  'channel-closed': 'The channel was closed by its administrator.',
  'key-rotated': 'The app\'s key was changed, so this token no longer holds.',
};

/** Shows a catalog error: code, what it means, the server's message, the advice. */
function showError(e) {
  const box = $('error');
  const entry = lookup(e.code);
  box.replaceChildren();
  const head = document.createElement('p');
  const code = document.createElement('strong');
  code.className = 'code';
  code.textContent = e.hex;
  head.append(code, ` ${entry?.description || e.message || 'error'}`);
  box.append(head);
  const removal = demo.removal && e.code === ErrorCode.SESSION_REMOVED ? demo.removal : null;
  const detail = removal ? `${kRemovalReason[removal.reason] || 'The server ended this session.'} (reason: ${removal.reason || 'none given'})` : null;
  // The server's message, unless it only repeats the description (and the reason).
  const repeats = entry && e.message && e.message.toLowerCase().startsWith(entry.description.toLowerCase());
  const message = [detail, e.message && !repeats ? e.message : null].filter(Boolean).join(' ');
  if (message) {
    const p = document.createElement('p');
    p.textContent = message;
    box.append(p);
  }
  const advice = e.advice || entry?.adviceEn;
  if (advice && advice !== '-') {
    const p = document.createElement('p');
    p.className = 'advice';
    p.textContent = `What to do: ${advice}`;
    box.append(p);
  }
  box.dataset.code = e.hex;
}
function clearError() { $('error').replaceChildren(); delete $('error').dataset.code; }

engine.on('error', (e) => {
  log(`error ${e.hex} ${e.message}`);
  // A removal is the news; whatever fails after it (the closed socket) is not.
  if (demo.callState === 'removed' && e.code !== ErrorCode.SESSION_REMOVED) return;
  showError(e);
});
engine.on('warning', (w) => log(`warning ${w.hex} ${w.message}`));
engine.on('connectionStateChanged', ({ state }) => {
  log(`signalling ${state}`);
  if (state === 'reconnecting' && demo.callState === 'in-call') setCallState('reconnecting');
  if (state === 'connected' && demo.callState === 'reconnecting') setCallState('in-call');
  if (state === 'failed' && (demo.callState === 'in-call' || demo.callState === 'reconnecting')) endCall('failed');
});
engine.on('sessionRemoved', ({ code, reason }) => {
  log(`removed by the server (${reason})`);
  demo.removal = { code, reason };
  endCall('removed');
});

// ---- tiles ---------------------------------------------------------------------------
const initials = (name) => (name || '?').split(/[\s_.-]+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('') || '?';

function tileFor(userId, { create = true, screen = false } = {}) {
  const sel = `.tile[data-user="${CSS.escape(userId)}"]${screen ? '[data-screen]' : ':not([data-screen])'}`;
  let tile = document.querySelector(sel);
  if (tile || !create) return tile;
  tile = document.createElement('figure');
  tile.className = 'tile';
  tile.dataset.user = userId;
  tile.dataset.cam = 'none';
  if (screen) tile.dataset.screen = '1';
  tile.innerHTML = '<video autoplay muted playsinline></video><audio autoplay></audio>' +
    '<div class="placeholder" aria-hidden="true"><span class="initials"></span></div>' +
    '<figcaption><span class="mic" aria-hidden="true"></span><span class="name"></span></figcaption>';
  $('tiles').append(tile);
  layout();
  return tile;
}

function nameTile(tile, name, screen, suffix = '') {
  tile.querySelector('.name').textContent = screen ? `${name} (screen)` : `${name}${suffix}`;
  tile.querySelector('.initials').textContent = initials(name);
  tile.setAttribute('aria-label', screen ? `${name}'s screen` : name);
}

function remoteName(userId) {
  const u = engine.remoteUsers.get(userId);
  return (u && u.userName) || userId;
}

function updateRemote(userId) {
  const u = engine.remoteUsers.get(userId);
  if (!u) {
    // Gone already: a track can still surface from a subscribe offer applied late.
    document.querySelectorAll(`.tile[data-user="${CSS.escape(userId)}"]`).forEach((el) => el.remove());
    layout();
    return;
  }
  const tile = tileFor(userId);
  nameTile(tile, remoteName(userId), false);
  const muted = u.muted || [];
  tile.classList.toggle('mic-off', !u.tracks.includes('audio') || muted.includes('audio'));
  const camTrack = tile.querySelector('video').srcObject?.getVideoTracks()[0];
  tile.dataset.cam = !u.tracks.includes('camera') || !camTrack || camTrack.readyState === 'ended'
    ? 'none' : muted.includes('camera') ? 'muted' : 'on';
}

// One column on a phone, up to a square-ish grid on a wide screen.
function layout() {
  const n = $('tiles').children.length;
  $('tiles').dataset.count = String(Math.min(n, 9));
}

function clearRemoteTiles() {
  document.querySelectorAll('#tiles .tile:not(#localTile)').forEach((el) => el.remove());
  layout();
}

engine.on('remoteUserOnline', ({ userId }) => { log(`${remoteName(userId)} joined`); updateRemote(userId); });
engine.on('remoteUserUpdated', ({ userId }) => updateRemote(userId));
engine.on('remoteUserOffline', ({ userId, reason }) => {
  log(`${userId} left (${reason})`);
  document.querySelectorAll(`.tile[data-user="${CSS.escape(userId)}"]`).forEach((el) => el.remove());
  layout();
});
engine.on('remoteTrackPublished', ({ userId, track }) => { log(`${userId} publishes ${track}`); updateRemote(userId); });
engine.on('remoteTrackAvailable', ({ userId, track, kind, mediaStreamTrack }) => {
  log(`${userId} ${track} arrives`);
  if (!engine.remoteUsers.has(userId)) return;
  if (track === 'screen') {
    const tile = tileFor(userId, { screen: true });
    nameTile(tile, remoteName(userId), true);
    tile.querySelector('video').srcObject = new MediaStream([mediaStreamTrack]);
    tile.dataset.cam = 'on';
    return;
  }
  const tile = tileFor(userId);
  if (kind === 'video') {
    tile.querySelector('video').srcObject = new MediaStream([mediaStreamTrack]);
  } else {
    const audio = tile.querySelector('audio');
    audio.srcObject = new MediaStream([mediaStreamTrack]);
    // Browsers may refuse sound before the user has touched the page: offer a button.
    audio.play().catch(() => { $('unmuteAudio').hidden = false; });
  }
  updateRemote(userId);
});
engine.on('remoteTrackUnavailable', ({ userId, track }) => {
  log(`${userId} stopped ${track}`);
  if (track === 'screen') {
    tileFor(userId, { create: false, screen: true })?.remove();
    layout();
    return;
  }
  const tile = tileFor(userId, { create: false });
  if (tile && track === 'camera') tile.querySelector('video').srcObject = null;
  if (tile) updateRemote(userId);
});
engine.on('remoteTrackMuted', ({ userId, track, muted }) => {
  log(`${userId} ${muted ? 'muted' : 'unmuted'} ${track}`);
  updateRemote(userId);
});
engine.on('activeSpeaker', ({ userId }) => {
  document.querySelectorAll('.tile.speaking').forEach((el) => el.classList.remove('speaking'));
  if (!userId) return;
  const tile = userId === demo.me ? $('localTile') : tileFor(userId, { create: false });
  tile?.classList.add('speaking');
});

$('unmuteAudioBtn').addEventListener('click', () => {
  document.querySelectorAll('#tiles audio').forEach((a) => { if (a.srcObject) a.play().catch(() => {}); });
  $('unmuteAudio').hidden = true;
});

// ---- local media -----------------------------------------------------------------------
function updateLocal() {
  const tile = $('localTile');
  const stream = engine.getLocalStream();
  const video = $('local');
  if (video.srcObject !== stream) video.srcObject = stream;
  const hasCam = !!stream?.getVideoTracks().length && engine.publish.video;
  tile.dataset.cam = !hasCam ? 'none' : engine.isLocalCameraMuted() ? 'muted' : 'on';
  tile.classList.toggle('mic-off', !engine.publish.audio || engine.isLocalMicMuted());
  const micOn = engine.publish.audio && !engine.isLocalMicMuted();
  const camOn = engine.publish.video && !engine.isLocalCameraMuted();
  $('micBtn').textContent = micOn ? 'Mute mic' : 'Unmute mic';
  $('micBtn').setAttribute('aria-pressed', String(!micOn));
  $('camBtn').textContent = camOn ? 'Stop camera' : 'Start camera';
  $('camBtn').setAttribute('aria-pressed', String(!camOn));
  const sharing = engine.publish.screen;
  $('screenBtn').textContent = sharing ? 'Stop sharing' : 'Share screen';
  $('screenBtn').setAttribute('aria-pressed', String(sharing));
  let screenTile = document.querySelector('#localScreenTile');
  if (sharing && !screenTile) {
    screenTile = tileFor(' local', { screen: true });
    screenTile.id = 'localScreenTile';
    nameTile(screenTile, 'You', true);
    screenTile.dataset.cam = 'on';
  }
  if (sharing) screenTile.querySelector('video').srcObject = engine.getScreenStream();
  if (!sharing && screenTile) { screenTile.remove(); layout(); }
}
engine.on('publishStateChanged', updateLocal);
engine.on('localTrackMuted', updateLocal);

async function guarded(fn) {
  try { await fn(); } catch (e) { if (e?.hex) showError(e); else log(String(e)); }
  updateLocal();
}

$('micBtn').addEventListener('click', () => guarded(async () => {
  if (!engine.publish.audio) { await engine.muteLocalMic(false); await engine.publishLocalAudioStream(true); }
  else await engine.muteLocalMic(!engine.isLocalMicMuted());
}));
$('camBtn').addEventListener('click', () => guarded(async () => {
  if (!engine.publish.video) { await engine.muteLocalCamera(false); await engine.publishLocalVideoStream(true); }
  else await engine.muteLocalCamera(!engine.isLocalCameraMuted());
}));
$('screenBtn').addEventListener('click', () => guarded(async () => {
  if (engine.publish.screen) { await engine.stopScreenShare(); return; }
  // With its sound where the browser offers it (a tab's audio): it goes out mixed with
  // the microphone.
  await engine.startScreenShare({ audio: true });
  // The browser's own "Stop sharing" ends the track: unpublish it too.
  engine.getScreenStream()?.getVideoTracks()[0]?.addEventListener('ended', () => {
    if (engine.publish.screen) guarded(() => engine.stopScreenShare());
  });
}));

// ---- devices -------------------------------------------------------------------------
async function listDevices() {
  let devices = [];
  try { devices = await navigator.mediaDevices.enumerateDevices(); } catch { return; }
  for (const [kind, select, engineKind, word] of [['audioinput', $('micSelect'), 'audio', 'Microphone'], ['videoinput', $('camSelect'), 'video', 'Camera']]) {
    const chosen = engine.getInputDevice(engineKind) || activeDeviceId(engineKind) || '';
    const options = [new Option('default', '')];
    devices.filter((d) => d.kind === kind && d.deviceId && d.deviceId !== 'default').forEach((d, i) => {
      options.push(new Option(d.label || `${word} ${i + 1}`, d.deviceId));
    });
    select.replaceChildren(...options);
    select.value = options.some((o) => o.value === chosen) ? chosen : '';
  }
}
function activeDeviceId(kind) {
  const s = engine.getLocalStream() || previewStream;
  const t = kind === 'audio' ? s?.getAudioTracks()[0] : s?.getVideoTracks()[0];
  return t?.getSettings().deviceId || null;
}
navigator.mediaDevices?.addEventListener?.('devicechange', listDevices);
listDevices();

$('micSelect').addEventListener('change', () => guarded(async () => {
  await engine.setAudioInputDevice($('micSelect').value || null);
  log(`microphone: ${$('micSelect').selectedOptions[0].text}`);
}));
$('camSelect').addEventListener('change', () => guarded(async () => {
  await engine.setVideoInputDevice($('camSelect').value || null);
  log(`camera: ${$('camSelect').selectedOptions[0].text}`);
  if (previewStream) await startPreview();
}));

// ---- preview (before joining) -------------------------------------------------------------
let previewStream = null;
async function startPreview() {
  stopPreview();
  const id = $('camSelect').value;
  try {
    previewStream = await navigator.mediaDevices.getUserMedia({ video: id ? { deviceId: { exact: id } } : true });
  } catch (e) {
    showError({ code: ErrorCode.CAMERA_OPEN_FAILED, hex: '0x01040104', message: String(e), advice: lookup(ErrorCode.CAMERA_OPEN_FAILED)?.adviceEn });
    return;
  }
  $('preview').srcObject = previewStream;
  $('previewTile').dataset.cam = 'on';
  $('previewBtn').textContent = 'Stop preview';
  listDevices();
}
function stopPreview() {
  previewStream?.getTracks().forEach((t) => t.stop());
  previewStream = null;
  $('preview').srcObject = null;
  $('previewTile').dataset.cam = 'none';
  $('previewBtn').textContent = 'Preview camera';
}
$('previewBtn').addEventListener('click', () => (previewStream ? stopPreview() : startPreview()));

// ---- stats and quality ----------------------------------------------------------------
const kQualityWord = ['excellent', 'good', 'poor', 'bad', 'very bad', 'down'];
const dash = '—';
const kbps = (v) => (v === null || v === undefined ? dash : `${v < 10 ? v.toFixed(1) : v.toFixed(0)} kbps`);
function resetStats() {
  for (const id of ['statSend', 'statReceive', 'statRtt', 'statLoss', 'statVideo']) $(id).textContent = dash;
  setQuality(6);
}
function setQuality(q) {
  const el = $('quality');
  const graded = Number.isInteger(q) && q >= 0 && q <= 5;
  el.dataset.level = String(graded && q < 5 ? 5 - q : 0);  // bars lit: 5 for the best grade, none when down
  $('qualityWord').textContent = graded ? kQualityWord[q] : dash;
  el.setAttribute('aria-label', `Network quality: ${graded ? kQualityWord[q] : 'not measured yet'}`);
}
// Our own quality: the worse of what we send and what we receive; 6 (not measured) gives way.
const worse = (a, b) => (a === 6 ? b : b === 6 ? a : Math.max(a, b));
engine.on('networkQuality', ({ userId, up, down }) => { if (userId === '') setQuality(worse(up, down)); });
engine.on('stats', (q) => {
  $('statSend').textContent = kbps(q.sendKbps);
  $('statReceive').textContent = kbps(q.receiveKbps);
  $('statRtt').textContent = q.rttMs === null || q.rttMs === undefined ? dash : `${q.rttMs.toFixed(0)} ms`;
  $('statLoss').textContent = q.lossRate === null || q.lossRate === undefined ? dash : `${(q.lossRate * 100).toFixed(1)} %`;
  $('statVideo').textContent = q.width ? `${q.width}×${q.height}${q.fps ? ` · ${Math.round(q.fps)} fps` : ''}` : dash;
});

// ---- join and leave -----------------------------------------------------------------------
function endCall(state) {
  clearRemoteTiles();
  $('local').srcObject = null;
  $('localTile').dataset.cam = 'none';
  $('localTile').classList.remove('speaking');
  document.querySelector('#localScreenTile')?.remove();
  $('unmuteAudio').hidden = true;
  setCallState(state);
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (demo.callState === 'joining' || demo.callState === 'in-call') return;
  clearError();
  demo.removal = null;
  const claims = describeToken();
  const token = fields.token.value.trim();
  // An access token is all the server needs; classic tokens need the AuthInfo fields.
  const auth = !claims && fields.appId.value && fields.timestamp.value
    ? { appId: fields.appId.value.trim(), channelId: fields.channelId.value.trim(), userId: fields.userId.value.trim(),
        nonce: fields.nonce.value.trim(), timestamp: Number(fields.timestamp.value), token }
    : token;
  const name = fields.userName.value.trim() || fields.userId.value.trim() || claims?.userId || '';
  stopPreview();
  setCallState('joining');
  try {
    const r = await engine.joinChannel(auth, name, { role: fields.role.value, profile: fields.profile.value });
    demo.me = r.userId;
    log(`joined ${r.channelId} as ${r.userId} in ${r.elapsedMs} ms`);
    $('channelName').textContent = `#${r.channelId}`;
    $('userName').textContent = `as ${name || r.userId}`;
    nameTile($('localTile'), name || r.userId, false, ' (you)');
    setCallState('in-call');
  } catch (e) {
    setCallState('failed');
    showError(e);
    return;
  }
  if (engine.role !== 'audience') {
    if ($('pubAudio').checked) await guarded(() => engine.publishLocalAudioStream(true));
    if ($('pubVideo').checked) await guarded(() => engine.publishLocalVideoStream(true));
  }
  updateLocal();
  listDevices();
});

$('leaveBtn').addEventListener('click', async () => {
  try { await engine.leaveChannel(); } catch (e) { showError(e); }
  log('left');
  endCall('left');
});

setCallState('idle');
const autoJoin = fragment.has('token') ? fragment.get('join') !== '0' : query.get('join') === '1';
if (autoJoin) form.requestSubmit();
