// The subscribe connection (the server offers, the browser answers) and the startup
// phases a join goes through on its way to the first remote picture.
import { ErrorCode } from './errors.js';
import { Track } from './protocol.js';
import { stereoAnswer } from './audio-profile.js';

/** Emits `startupPhase` ({ phase, ms }: ms since joinChannel began) once per phase and join. */
export function startupPhase(engine, name) {
  const s = engine.startup;
  if (!s || s.seen.has(name)) return;
  s.seen.add(name);
  engine.emit('startupPhase', { phase: name, ms: Math.round(performance.now() - s.t0) });
}

// Resolves true when `track` delivers its first decoded frame, false after `ms` or if
// the browser cannot tell (no MediaStreamTrackProcessor). A copy of the track is read,
// so the application's own consumers of the track are not disturbed.
async function firstDecodedFrame(track, ms) {
  if (typeof MediaStreamTrackProcessor !== 'function') return false;
  const copy = track.clone();
  let reader, timer;
  try {
    reader = new MediaStreamTrackProcessor({ track: copy, maxBufferSize: 1 }).readable.getReader();
    const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve({ done: true }), ms); });
    const { value, done } = await Promise.race([reader.read(), timeout]);
    value?.close();
    return !done;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    reader?.cancel().catch(() => {});
    copy.stop();
  }
}

// A remote video's startup phases: its first packets (Chromium unmutes a remote track
// when they arrive), then its first decoded frame: read off a copy of the track as the
// decoder hands it over (the reader is set up as the track is announced, so it is in
// place before the first frame), or, where the browser cannot read tracks, seen in the
// receiver's counters (looked at every 20 ms); for at most 10 s, one video at a time.
function watchFirstVideo(engine, receiver, track) {
  const startup = engine.startup;
  const flowing = () => {
    // Media flowing means ICE and DTLS are done, whichever notice comes first (the
    // server sends a kept keyframe the moment its DTLS side completes).
    if (engine.startup !== startup) return;
    startupPhase(engine, 'iceConnected');
    startupPhase(engine, 'dtlsConnected');
    startupPhase(engine, 'firstRtp');
  };
  if (!track.muted) flowing();
  else track.addEventListener('unmute', flowing, { once: true });
  if (!startup || startup.watching) return;
  startup.watching = true;
  const since = performance.now();
  const decoded = () => {
    flowing();
    if (engine.startup === startup) startupPhase(engine, 'firstFrame');
  };
  const look = async () => {
    if (engine.startup !== startup || startup.seen.has('firstFrame') || performance.now() - since > 10000) return;
    let any = false;
    try {
      (await receiver.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.framesDecoded > 0) any = true; });
    } catch { return; }  // the connection closed
    if (any) decoded();
    else setTimeout(look, 20);
  };
  firstDecodedFrame(track, 10000).then((seen) => (seen ? decoded() : look()));
}

// The subscribe connection, made with the first offer: its tracks are announced as
// they arrive, its progress is a startup phase, and its failure is the call's.
function subscribeConnection(engine) {
  const pc = new RTCPeerConnection(engine.rtcConfiguration());
  pc.ontrack = (e) => {
    const msid = (e.streams[0] && e.streams[0].id) || '';
    const trackName = e.track.id.startsWith(`${msid}-`) ? e.track.id.slice(msid.length + 1)
      : (e.track.kind === 'audio' ? Track.AUDIO : Track.CAMERA);
    if (e.track.kind === 'audio' && e.streams[0]) engine.playout?.add(msid, e.streams[0]);
    if (e.track.kind === 'video' && !engine.startup?.seen.has('firstFrame')) watchFirstVideo(engine, e.receiver, e.track);
    engine.emit('remoteTrackAvailable', { userId: msid, track: trackName, kind: e.track.kind, mediaStreamTrack: e.track, stream: e.streams[0] });
  };
  pc.oniceconnectionstatechange = () => {
    if (pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed') startupPhase(engine, 'iceConnected');
  };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === 'connected') {
      startupPhase(engine, 'iceConnected');
      startupPhase(engine, 'dtlsConnected');
    }
    if (pc.connectionState === 'failed' && pc === engine.subscribePc) engine.fail(ErrorCode.MEDIA_CONNECTION_CREATE_FAILED, 'subscribe connection failed');
  };
  return pc;
}

/** Applies the server's subscribe offer and answers it; offers are applied one at a time, in order. */
export function applySubscribeOffer(engine, sdp) {
  startupPhase(engine, 'subscribeOffered');
  engine.subscribeChain = (engine.subscribeChain || Promise.resolve()).then(async () => {
    if (!engine.subscribePc) engine.subscribePc = subscribeConnection(engine);
    const pc = engine.subscribePc;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    // Stereo streams (the server offers them as such) are decoded in stereo.
    const answer = await pc.createAnswer();
    await pc.setLocalDescription({ type: 'answer', sdp: stereoAnswer(sdp, answer.sdp) });
    const sent = engine.request('subscribeAnswer', { sdp: pc.localDescription.sdp });
    startupPhase(engine, 'subscribeAnswered');
    await sent;
  });
  return engine.subscribeChain;
}
