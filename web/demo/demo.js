// The browser demo: join a channel with parley.js, publish camera and microphone, and
// show every remote user's tracks with live statistics. Fields can be pre-filled from
// the URL: /demo/?token=<access token>&join=1 (or the classic fields appId, channelId,
// userId, timestamp, nonce, token)
import { createEngine } from '/sdk/parley.js';

const $ = (id) => document.getElementById(id);
const form = $('join');
const params = new URLSearchParams(location.search);
for (const [k, v] of params) if (form.elements[k]) form.elements[k].value = v;
if (!form.elements.userId.value) form.elements.userId.value = `user${Math.floor(Math.random() * 10000)}`;

const engine = createEngine();
window.parleyEngine = engine;  // for tests and the console's "open demo" link
const log = (text) => { const li = document.createElement('li'); li.textContent = `${new Date().toLocaleTimeString()} ${text}`; $('log').prepend(li); };
const showError = (e) => { $('error').textContent = `${e.hex} ${e.message}${e.advice && e.advice !== '-' ? ` — ${e.advice}` : ''}`; };

engine.on('connectionStateChanged', ({ state }) => { $('state').textContent = state; });
engine.on('error', (e) => { showError(e); log(`error ${e.hex} ${e.message}`); });
engine.on('warning', (w) => log(`warning ${w.hex} ${w.message}`));
engine.on('remoteUserOnline', ({ userId }) => log(`${userId} online`));
engine.on('remoteUserOffline', ({ userId, reason }) => {
  log(`${userId} offline (${reason})`);
  document.querySelectorAll(`[data-user="${CSS.escape(userId)}"]`).forEach((el) => el.remove());
});
engine.on('remoteTrackAvailable', ({ userId, kind, stream }) => {
  log(`${userId} ${kind} available`);
  let tile = document.querySelector(`.tile[data-user="${CSS.escape(userId)}"]`);
  if (!tile) {
    tile = document.createElement('figure');
    tile.className = 'tile';
    tile.dataset.user = userId;
    tile.innerHTML = '<video autoplay playsinline></video><figcaption></figcaption>';
    tile.querySelector('figcaption').textContent = userId;
    $('tiles').append(tile);
  }
  const video = tile.querySelector('video');
  if (stream && video.srcObject !== stream) video.srcObject = stream;
});
engine.on('networkQuality', (q) => {
  $('stats').textContent = `quality ${q.quality}/5  send ${q.sendKbps.toFixed(0)} kbps  receive ${q.receiveKbps.toFixed(0)} kbps\n` +
    `loss ${(q.lossRate * 100).toFixed(1)} %  rtt ${q.rttMs.toFixed(0)} ms  jitter ${q.jitterMs.toFixed(0)} ms  ` +
    `video ${q.width}x${q.height} @ ${q.fps || 0} fps`;
});

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('error').textContent = '';
  const f = form.elements;
  const token = f.token.value.trim();
  const auth = f.appId.value && f.timestamp.value
    ? { appId: f.appId.value.trim(), channelId: f.channelId.value.trim(), userId: f.userId.value.trim(), nonce: f.nonce.value.trim(), timestamp: Number(f.timestamp.value), token }
    : token;
  $('joinBtn').disabled = true;
  try {
    const r = await engine.joinChannel(auth, f.userId.value.trim(), { role: f.role.value, profile: f.profile.value });
    log(`joined ${r.channelId} as ${r.userId} in ${r.elapsedMs} ms`);
    $('leaveBtn').disabled = false;
    if (f.role.value !== 'audience') {
      if ($('pubAudio').checked) await engine.publishLocalAudioStream(true);
      if ($('pubVideo').checked) await engine.publishLocalVideoStream(true);
      $('local').srcObject = engine.getLocalStream();
    }
  } catch (e) {
    showError(e);
    $('joinBtn').disabled = false;
  }
});

$('leaveBtn').addEventListener('click', async () => {
  try { await engine.leaveChannel(); } catch (e) { showError(e); }
  document.querySelectorAll('.tile[data-user]').forEach((el) => el.remove());
  $('local').srcObject = null;
  $('leaveBtn').disabled = true;
  $('joinBtn').disabled = false;
  log('left');
});

if (params.get('join') === '1') form.requestSubmit();
