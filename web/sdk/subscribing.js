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

/** Stops watching for the join's first remote frame (the call ended, or a new join began). */
export function stopStartupWatch(engine) {
  engine.startup?.watch?.abort();
}

// Resolves 'frame' when `track` delivers its first decoded frame, 'none' when `signal`
// aborts or the track ends first, 'unsupported' if the browser cannot read tracks (no
// MediaStreamTrackProcessor). A copy of the track is read, so the application's own
// consumers of the track are not disturbed; the copy is stopped either way.
async function firstDecodedFrame(track, signal) {
  if (typeof MediaStreamTrackProcessor !== 'function') return 'unsupported';
  if (signal.aborted) return 'none';
  const copy = track.clone();
  let reader;
  const stop = () => reader?.cancel().catch(() => {});
  signal.addEventListener('abort', stop, { once: true });
  try {
    reader = new MediaStreamTrackProcessor({ track: copy, maxBufferSize: 1 }).readable.getReader();
    const { value, done } = await reader.read();
    value?.close();
    return done ? 'none' : 'frame';
  } catch {
    return 'none';
  } finally {
    signal.removeEventListener('abort', stop);
    stop();
    copy.stop();
  }
}

// A remote video's startup phases: its first packets (Chromium unmutes a remote track
// when they arrive), then the first decoded frame of any remote video: read off a copy
// of each video track as the decoder hands it over (each reader is set up as its track
// is announced, so it is in place before the first frame; the first frame stops them
// all), or, where the browser cannot read tracks, seen in the receiver's counters
// (looked at every 20 ms). Watching ends after 10 s, with the call or with a new join.
function watchFirstVideo(engine, receiver, track) {
  const startup = engine.startup;
  if (!startup || startup.seen.has('firstFrame')) return;
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
  if (!startup.watch) {
    startup.watch = new AbortController();
    const timer = setTimeout(() => startup.watch.abort(), 10000);
    startup.watch.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  }
  const { signal } = startup.watch;
  const decoded = () => {
    if (signal.aborted || engine.startup !== startup) return;
    flowing();
    startupPhase(engine, 'firstFrame');
    startup.watch.abort();  // the other tracks' readers
  };
  const look = async () => {
    if (signal.aborted || receiver.track.readyState === 'ended') return;
    let any = false;
    try {
      (await receiver.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.framesDecoded > 0) any = true; });
    } catch { return; }  // the connection closed
    if (any) decoded();
    else setTimeout(look, 20);
  };
  firstDecodedFrame(track, signal).then((r) => (r === 'frame' ? decoded() : r === 'unsupported' ? look() : undefined));
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
