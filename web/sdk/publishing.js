// The publish side of an Engine: one RTCPeerConnection per set of published tracks (any
// change opens a fresh one; the server moves its subscribers' routes to it, so they see
// one stream), the captures behind it, and the one audio track. The screen's sound
// (getDisplayMedia's audio, where the browser offers it: startScreenShare({ audio: true }))
// goes in that audio track, as in the native SDK: mixed with the microphone when the
// microphone is published, alone when it is not.
import { ErrorCode } from './errors.js';
import { Track } from './protocol.js';
import { applyVideoConfig, cameraEncodings } from './video-config.js';
import { offerForServer, answerForBrowser } from './audio-profile.js';

/** The audio track to publish from the microphone's and the screen's (either may be
 * null): one of them alone, or both mixed in a Web Audio graph. */
export class AudioMix {
  constructor() { this.ctx = null; this.out = null; this.mic = null; this.screen = null; this.micSource = null; }

  trackFor(mic, screen) {
    if (!mic || !screen) { this.close(); return mic || screen; }
    if (this.out && this.mic === mic && this.screen === screen) return this.out;
    this.close();
    this.ctx = new AudioContext({ sampleRate: 48000 });
    const dest = this.ctx.createMediaStreamDestination();
    this.micSource = this.ctx.createMediaStreamSource(new MediaStream([mic]));
    this.micSource.connect(dest);
    this.ctx.createMediaStreamSource(new MediaStream([screen])).connect(dest);
    this.dest = dest;
    this.mic = mic; this.screen = screen;
    this.out = dest.stream.getAudioTracks()[0];
    return this.out;
  }

  /** The microphone changed device (./devices.js): the mix takes the new one in place.
   * False when `old` is not mixed here. */
  replaceMic(old, fresh) {
    if (!this.out || this.mic !== old) return false;
    this.micSource.disconnect();
    this.micSource = this.ctx.createMediaStreamSource(new MediaStream([fresh]));
    this.micSource.connect(this.dest);
    this.mic = fresh;
    return true;
  }

  close() {
    this.ctx?.close();
    this.out?.stop();
    this.ctx = this.out = this.mic = this.screen = this.micSource = this.dest = null;
  }
}

export function stopLocal(engine) {
  engine.localStream?.getTracks().forEach((t) => t.stop());
  engine.localStream = null;
  if (!engine.publish.screen) {
    engine.screenStream?.getTracks().forEach((t) => t.stop());
    engine.screenStream = null;
    engine.audioMix.close();
  }
}

function preferVideoCodec(pc, codec) {
  const caps = RTCRtpSender.getCapabilities?.('video');
  if (!caps) return;
  const want = codec === 'H264'
    ? (c) => c.mimeType === 'video/H264' && /packetization-mode=1/.test(c.sdpFmtpLine || '') && /profile-level-id=42e01f/i.test(c.sdpFmtpLine || '')
    : (c) => c.mimeType === 'video/VP8';
  const first = caps.codecs.filter(want);
  if (!first.length) return;
  const order = [...first, ...caps.codecs.filter((c) => !want(c))];
  for (const t of pc.getTransceivers()) {
    if (t.sender.track?.kind === 'video' && t.setCodecPreferences) t.setCodecPreferences(order);
  }
}

/** Publishes what engine.publish says, on a fresh connection. `before` is what was
 * published; engine.audioOut whether an audio track is (the microphone's, the screen's
 * sound or both). */
export async function renegotiatePublish(engine, before) {
  const e = engine;
  const wantAudio = e.publish.audio, wantVideo = e.publish.video, wantScreen = e.publish.screen;
  if (wantScreen && !e.screenStream) {
    try {
      e.screenStream = await navigator.mediaDevices.getDisplayMedia(
        e.screenAudio ? { video: true, audio: true, systemAudio: 'include' } : { video: true });
    } catch (err) {
      throw e.fail(ErrorCode.PUBLISH_STREAM_START_ERROR, `screen capture: ${err}`);
    }
  }
  const screenSound = wantScreen ? e.screenStream.getAudioTracks()[0] || null : null;
  const sendAudio = wantAudio || !!screenSound;
  const gone = [...(e.audioOut && !sendAudio ? [Track.AUDIO] : []),
    ...(before.video && !wantVideo ? [Track.CAMERA] : []), ...(before.screen && !wantScreen ? [Track.SCREEN] : [])];
  if (gone.length) await e.request('unpublish', { tracks: gone });
  if (gone.includes(Track.AUDIO)) e.audioOut = false;
  if (e.publishPc) { e.publishPc.close(); e.publishPc = null; }
  if (!sendAudio && !wantVideo && !wantScreen) {
    stopLocal(e);
    return;
  }
  if ((wantAudio || wantVideo) && (!e.localStream ||
      (wantAudio && !e.localStream.getAudioTracks().length) || (wantVideo && !e.localStream.getVideoTracks().length))) {
    e.localStream?.getTracks().forEach((t) => t.stop());
    e.localStream = null;
    try {
      e.localStream = await navigator.mediaDevices.getUserMedia({
        audio: wantAudio ? e.mediaConstraints('audio') : false,
        video: wantVideo ? e.mediaConstraints('video') : false,
      });
    } catch (err) {
      throw e.fail(wantVideo ? ErrorCode.CAMERA_OPEN_FAILED : ErrorCode.AUDIO_RECORD_DEVICE_OPEN_FAILED, String(err));
    }
    // A muted microphone or camera stays muted on a new capture: silence / black frames.
    for (const t of e.localStream.getAudioTracks()) t.enabled = !e.muted.audio;
    for (const t of e.localStream.getVideoTracks()) t.enabled = !e.muted.video;
  }
  const pc = new RTCPeerConnection(e.rtcConfiguration());
  e.publishPc = pc;
  e.pausedLayers = new Set();  // a new connection sends every layer until the server says otherwise
  const tracks = [];
  if (sendAudio) {
    const audio = e.audioMix.trackFor(wantAudio ? e.localStream.getAudioTracks()[0] : null, screenSound);
    audio.enabled = !e.muted.audio;  // mute silences the whole audio track, the screen's sound too
    pc.addTransceiver(audio, { direction: 'sendonly', streams: [wantAudio ? e.localStream : e.screenStream] });
    tracks.push(Track.AUDIO);
  } else {
    e.audioMix.close();
  }
  if (wantVideo) {
    // Dual stream: the camera as a big and a small layer (simulcast by RID), unless off.
    pc.addTransceiver(e.localStream.getVideoTracks()[0], { direction: 'sendonly', streams: [e.localStream],
      sendEncodings: cameraEncodings(e.video, e.dualStream ? e.smallStream : null) });
    tracks.push(Track.CAMERA);
  }
  if (wantScreen) { pc.addTransceiver(e.screenStream.getVideoTracks()[0], { direction: 'sendonly', streams: [e.screenStream] }); tracks.push(Track.SCREEN); }
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === 'failed' && pc === e.publishPc) e.fail(ErrorCode.MEDIA_CONNECTION_CREATE_FAILED, 'publish connection failed');
  };
  preferVideoCodec(pc, e.videoCodec);
  await pc.setLocalDescription(await pc.createOffer());
  const added = tracks.filter((t) => (t === Track.AUDIO ? !e.audioOut : t === Track.CAMERA ? !before.video : !before[t]));
  // New tracks are published with the new offer; a smaller set renegotiates the
  // publish connection without changing what is published (updatePublish).
  const data = added.length
    ? await e.request('publish', { tracks: added, sdp: offerForServer(pc.localDescription.sdp, e.audio) })
    : await e.request('updatePublish', { sdp: offerForServer(pc.localDescription.sdp, e.audio) });
  e.phase('publishAnswered');
  e.audioOut = sendAudio;
  await pc.setRemoteDescription({ type: 'answer', sdp: answerForBrowser(data.sdp, e.audio) });
  // Muted before publishing (or before a republish): tell the server once the track
  // is published, so the others see it muted from the start.
  if (wantVideo) await applyVideoConfig(pc, e.localStream.getVideoTracks()[0], e.video, e.pausedLayers);
  const mutedNow = added.filter((t) => (t === Track.AUDIO && e.muted.audio) || (t === Track.CAMERA && e.muted.video));
  if (mutedNow.length) await e.request('mute', { tracks: mutedNow, muted: true });
}
