// Code the browser tests run inside a page (page.evaluate): each function is sent as
// source, so it may use only its argument and the page's globals.

// Joins with `token` through parley.js (createEngine(`options`)), publishes microphone and camera, and plays
// every remote stream in a <video>. window.engine is the engine afterwards,
// window.streams holds each remote stream by `user/kind`, and
// window.heard lists its errors and warnings (hex), networkQuality and message events in order.
export async function browserParticipant({ token, options = {} }) {
  const { createEngine } = await import('/sdk/parley.js');
  const engine = createEngine(options);
  window.engine = engine;
  window.tracks = [];
  window.streams = {};
  window.heard = [];
  engine.on('error', (e) => window.heard.push({ ev: 'error', hex: e.hex, message: e.message }));
  engine.on('warning', (w) => window.heard.push({ ev: 'warning', hex: w.hex }));
  engine.on('networkQuality', (q) => window.heard.push({ ev: 'networkQuality', ...q }));
  engine.on('message', (m) => window.heard.push({ ev: 'message', ...m }));
  engine.on('remoteTrackAvailable', ({ userId, kind, stream }) => {
    window.tracks.push(`${userId}/${kind}`);
    window.streams[`${userId}/${kind}`] = stream;
    const v = document.createElement('video');
    v.autoplay = true; v.muted = true; v.srcObject = stream;
    document.body.append(v);
  });
  await engine.joinChannel(token, 'browser');
  await engine.publishLocalAudioStream(true);
  await engine.publishLocalVideoStream(true);
}

// What the subscribe connection received so far, per kind: decoded frames, bytes, width.
export async function inbound() {
  const out = {};
  const pc = window.engine.subscribePc;
  if (!pc) return out;
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp') {
      out[s.kind] = { frames: s.framesDecoded || 0, bytes: s.bytesReceived, width: s.frameWidth,
        samples: s.totalSamplesReceived || 0, concealed: s.concealedSamples || 0 };
    }
  });
  return out;
}

/** Polls the page's window.heard (the events a participant page records) until
 * `done(heard)` holds or `ms` passed; returns what it heard last. */
export async function hear(page, done, ms) {
  let heard = [];
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 250))) {
    heard = await page.evaluate(() => window.heard);
    if (done(heard)) break;
  }
  return heard;
}

// In a subscriber's page: alice's camera as received, its decoded width and frame
// count (every participant publishes a camera: the others' are not hers).
export async function camera() {
  let out = { width: 0, frames: 0 };
  const pc = window.engine.subscribePc;
  const id = window.streams['alice/video']?.getVideoTracks()[0]?.id;
  if (!pc || !id) return out;
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video' && s.trackIdentifier === id)
      out = { width: s.frameWidth || 0, frames: s.framesDecoded || 0 };
  });
  return out;
}

// Node side (not sent to a page). Samples `page`'s camera every 100 ms until `done(sample)` or `ms`; returns the last
// sample, the longest stretch without a newly decoded frame, and how long it took.
export async function watch(page, done, ms) {
  const start = Date.now();
  let last = await page.evaluate(camera), longestFreeze = 0, since = start;
  for (const end = start + ms; Date.now() < end;) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await page.evaluate(camera);
    if (now.frames > last.frames) since = Date.now();
    longestFreeze = Math.max(longestFreeze, Date.now() - since);
    last = now;
    if (done(now)) break;
  }
  return { ...last, longestFreeze, tookMs: Date.now() - start };
}

// In a subscriber's page: joins with `token` without publishing and asks for `type` of
// alice's camera.
export async function watcher({ token, type }) {
  const { createEngine } = await import('/sdk/parley.js');
  const engine = createEngine();
  window.engine = engine;
  window.streams = {};
  engine.on('remoteTrackAvailable', ({ userId, kind, stream }) => {
    window.streams[`${userId}/${kind}`] = stream;
    const v = document.createElement('video');
    v.autoplay = true; v.muted = true; v.srcObject = stream;
    document.body.append(v);
  });
  await engine.joinChannel(token, 'browser');
  await engine.setRemoteVideoStreamType('alice', type);
}
