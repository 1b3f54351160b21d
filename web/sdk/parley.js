// parley.js: the Parley browser (H5) SDK. An ES module with no build step, served by
// parleyd at /sdk/parley.js. Its API mirrors the native engine:
//
//   import { createEngine } from '/sdk/parley.js';
//   const engine = createEngine({ server: 'ws://127.0.0.1:7880' });
//   engine.on('remoteTrackAvailable', ({ userId, track, kind, stream }) => ...);
//   engine.on('error', ({ code, hex, message, advice }) => ...);
//   await engine.joinChannel(accessTokenOrAuthInfo, 'Alice');
//   await engine.publishLocalAudioStream(true);
//   await engine.publishLocalVideoStream(true);
//   await engine.muteLocalMic(true);                  // silence; the others get remoteTrackMuted
//   await engine.setVideoInputDevice(deviceId);       // switch camera while publishing
//   engine.on('networkQuality', ({ userId, up, down }) => ...);  // '' = the local user
//   engine.on('stats', ({ sendKbps, receiveKbps, rttMs, lossRate, ... }) => ...);
//
// Network quality (./quality.js) is per user and direction on ARTC's scale, 0
// excellent .. 4 very bad, 5 down, 6 not measured yet, emitted when a pair changes: the
// local pair from this browser's own measurements every 2 s (with hysteresis; (5, 5)
// at once while the signalling link is lost), sent to the server (reportStats), and
// each remote user's pair as the server relays it, (5, 5) while the server reports that
// user's connection lost. Warnings 0x00000101 / 0x00000102 when the local worse of up
// and down falls to 3 or 4 / is back at 0 or 1. `stats` is the raw 2 s sample (unmeasured fields null).
//
// Signalling is docs/protocol.md over one WebSocket; media is one RTCPeerConnection
// to publish (the client offers) and one to subscribe (the server offers). Every
// failure carries a code from the catalog (./errors.js, generated from
// proto/errors.tsv); a refused join rejects with the server's code unchanged. When the
// server removes the session (sessionRemoved, 0x02010105) the call ends at once: the
// camera and microphone are stopped and nothing that belonged to the call reports
// errors afterwards, so the removal is the last word.
import { ErrorCode, lookup, toHex } from './errors.js';
import { ParleyError } from './parley-error.js';
import { SignalConnection } from './signal.js';
import { joinCredentials } from './credentials.js';
import { collectStats } from './stats.js';
import { LocalQuality, RemoteQuality } from './quality.js';
import { sampleNetwork, qualityChanged } from './network.js';
import { startHeartbeat, linkClosed, resume } from './link.js';
import { onNotification } from './notifications.js';
import { sendMessage } from './messages.js';
import { startupPhase, applySubscribeOffer, stopStartupWatch } from './subscribing.js';
import { enableVolumeIndication } from './volume.js';
import { snapshotOf } from './snapshot.js';
import { listDevices, switchDevice, watchDevices } from './devices.js';
import { Playout } from './playout.js';
import { DataConnection } from './data.js';
import { kDefaultVideo, kDefaultSmallStream, videoConfig, videoConstraints, applyVideoConfig, smallStreamConfig } from './video-config.js';
import { AudioMix, renegotiatePublish, stopLocal } from './publishing.js';
import { AudioProfile, AudioScenario, audioSettings, audioConstraints } from './audio-profile.js';
// The protocol's words (track, role, profile and platform names, the timeout code of
// each request), generated from the same catalog as the server's.
import { Track, Role, Profile, Platform, VideoStreamType } from './protocol.js';

export { ErrorCode, ParleyError, Track, Role, Profile, AudioProfile, AudioScenario, VideoStreamType };

/** SDK version, reported to the server at join. */
export const VERSION = '0.1.0';

function defaultServer() {
  if (typeof location === 'undefined') return 'ws://127.0.0.1:7880';
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
}

class Engine {
  constructor(options = {}) {
    this.server = (options.server || defaultServer()).replace(/\/$/, '');
    this.requestTimeoutMs = options.requestTimeoutMs || 10000;
    this.reconnect = options.reconnect !== false;
    // 'VP8' (default) or 'H264' (constrained baseline: what every browser decodes, the
    // codec of H5-compatible channels). The publish offer lists it first; the server
    // takes the first codec of the offer it supports.
    this.videoCodec = (options.videoCodec || 'VP8').toUpperCase();
    this.listeners = new Map();
    this.signal = null;            // the SignalConnection (./signal.js) while connected
    this.state = 'disconnected';   // disconnected | connecting | connected | reconnecting | failed
    this.channel = null;           // join data while in a channel
    this.leaving = false;
    this.publish = { audio: false, video: false, screen: false };
    this.publishPc = null;
    this.localStream = null;
    this.muted = { audio: false, video: false };     // muteLocalMic / muteLocalCamera
    this.devices = { audio: null, video: null };     // chosen input deviceIds (null: default)
    this.audio = audioSettings(AudioProfile.HIGH_QUALITY, AudioScenario.SPEECH);  // setAudioProfile
    this.video = { ...kDefaultVideo };  // setVideoEncoderConfiguration
    this.dualStream = options.dualStream !== false;  // enableDualStreamMode: the camera in two layers
    this.relayOnly = !!options.relayOnly;  // media only through the TURN relays of the join answer
    this.pausedLayers = new Set();  // the camera's layers the server paused (nobody watches them)
    this.smallStream = { ...kDefaultSmallStream };
    this.screenStream = null;
    this.screenAudio = false;      // startScreenShare({ audio: true })
    this.audioOut = false;         // an audio track is published (microphone, screen sound or both)
    this.audioMix = new AudioMix();  // ./publishing.js
    this.subscribePc = null;
    this.remoteUsers = new Map();  // userId -> user (from the server)
    // Members heard from (a message or a data message) that may not be listed: a live
    // channel's audience is not (docs/protocol.md), and a host may answer it directly.
    this.heardFrom = new Set();
    this.heartbeat = null;
    this.statsTimer = null;
    this.quality = new LocalQuality();    // the local user's network quality (./quality.js)
    this.remoteQuality = new RemoteQuality();
    this.destroyed = false;
    this.callCount = 0;            // +1 each time a call ends (see background())
    this.unwatchDevices = typeof navigator === 'undefined' ? () => {} : watchDevices(this);  // ./devices.js
    this.playout = options.playAudio ? new Playout() : null;  // remote audio played here (./playout.js)
    this.dataEnabled = !!options.dataMessages;  // enableDataMessages: the data connection (./data.js)
    this.data = new DataConnection(this);
  }

  // ---- events -------------------------------------------------------------
  /** Adds a listener. Events: joinResult, leaveResult, remoteUserOnline, remoteUserOffline,
   * remoteUserUpdated ({ userId, user }: a new display name), remoteRoleUpdated,
   * remoteTrackPublished, remoteTrackAvailable, remoteTrackUnavailable, remoteTrackMuted
   * ({ userId, track, muted }), remoteStreamAborted, remoteStreamResumed,
   * publishStateChanged, localTrackMuted, connectionStateChanged (the WebSocket),
   * networkQuality ({ userId, up, down }), stats, activeSpeaker, sessionRemoved,
   * message ({ fromUserId, data, direct }), volumeIndication ({ speakers: [{ userId, volume }] }), authInfoWillExpire ({ expiresAt }, Unix
   * seconds: 30 s or less left; call refreshAuthInfo), authInfoExpired ({ removeInMs }:
   * the server removes the session then, 0x05040002, unless refreshed), localDeviceChanged
   * ({ kind, deviceId }), deviceStateChanged ({ kind, deviceId, label, state }: a
   * device added to or removed from the system; ./devices.js), error, warning. */
  on(event, fn) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(fn);
    return this;
  }
  off(event, fn) { this.listeners.get(event)?.delete(fn); return this; }
  emit(event, payload) {
    for (const fn of this.listeners.get(event) || []) {
      try { fn(payload); } catch (e) { console.error(`parley: ${event} listener threw`, e); }
    }
  }
  fail(code, message) {
    const err = new ParleyError(code, message);
    this.emit('error', { code: err.code, hex: err.hex, message: err.message, advice: err.advice });
    return err;
  }
  warn(code, message) {
    const entry = lookup(code);
    this.emit('warning', { code, hex: toHex(code), message: message || (entry ? entry.description : '') });
  }
  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit('connectionStateChanged', { state });
  }
  check(condition, code, message) { if (!condition) throw new ParleyError(code, message); }

  // ---- signalling ---------------------------------------------------------
  async open(timeoutMs) {
    this.setState(this.channel ? 'reconnecting' : 'connecting');
    const signal = await SignalConnection.open(this.server, {
      onNotification: (m) => this.onNotification(m),
      onClose: () => this.onClose(signal),
    }, timeoutMs);
    this.signal = signal;
  }

  request(type, fields = {}) {
    if (!this.signal) {
      return Promise.reject(new ParleyError(ErrorCode.SIGNAL_REQUEST_ERROR, 'not connected to the server'));
    }
    return this.signal.request(type, fields, this.requestTimeoutMs);
  }

  // What the server tells us unasked (docs/protocol.md, "Notifications"): ./notifications.js.
  onNotification(m) { onNotification(this, m); }

  // A task the application did not ask for (auto-subscribe, a server offer): its failure
  // is reported as an error event, unless the call it belonged to has ended since (a
  // removal or leave closes the socket under it: "connection closed" is no news then).
  background(promise) {
    const call = this.callCount;
    promise.catch((e) => { if (call === this.callCount && this.channel) this.emitError(e); });
  }

  emitError(e) {
    if (e instanceof ParleyError) this.emit('error', { code: e.code, hex: e.hex, message: e.message, advice: e.advice });
    else this.fail(ErrorCode.SIGNAL_REQUEST_ERROR, String(e));
  }

  // The link's behaviour (heartbeats, a lost link, the reconnection): ./link.js.
  onClose(signal) { linkClosed(this, signal); }
  resume(attempt) { return resume(this, attempt); }

  // ---- channel ------------------------------------------------------------
  /** Joins a channel with an access token (string), an AuthInfo object, or an ARTC
   *  single-parameter token (apps with classic tokens on). Resolves with the
   * join data ({ users, elapsedMs, ... }); rejects with a ParleyError. */
  async joinChannel(auth, userName = '', options = {}) {
    this.check(!this.destroyed, ErrorCode.INVALID_STATE, 'the engine was destroyed');
    this.check(!this.channel, ErrorCode.ALREADY_IN_CHANNEL, 'already in a channel');
    const credentials = joinCredentials(auth);
    this.playout?.ensure();  // while the click that joins counts: browsers start audio only then
    this.autoSubscribe = options.autoSubscribe !== false;
    const t0 = performance.now();
    stopStartupWatch(this);
    this.startup = { t0, seen: new Set() };
    try {
      if (!this.signal) await this.open();
      const hello = await this.request('hello', { sdkVersion: `parley.js ${VERSION}`, platform: Platform.H5 });
      const data = await this.request('join', {
        ...credentials, userName, platform: Platform.H5, sdkVersion: `parley.js ${VERSION}`,
        profile: options.profile || Profile.COMMUNICATION, role: options.role || Role.BROADCASTER,
      });
      this.channel = { ...data, resumeGraceMs: hello.resumeGraceMs };
      this.role = data.role;
      this.remoteUsers = new Map((data.users || []).map((u) => [u.userId, u]));
      this.setState('connected');
      startHeartbeat(this, hello.heartbeatIntervalMs || 2000);
      this.startStats();
      if (this.dataEnabled) this.background(this.data.open());
      if (this.volumeIndication?.intervalMs > 0) this.background(this.request('setVolumeIndication', { intervalMs: this.volumeIndication.intervalMs }));
      const result = { channelId: data.channelId, userId: data.userId, elapsedMs: Math.round(performance.now() - t0), users: data.users };
      this.emit('joinResult', { code: 0, ...result });
      this.phase('joined');
      for (const u of data.users || []) {
        this.emit('remoteUserOnline', { userId: u.userId, user: u });
        this.userQuality(u);
      }
      if (data.activeSpeaker) this.emit('activeSpeaker', { userId: data.activeSpeaker });
      if (this.autoSubscribe) {
        for (const u of data.users || []) if (u.tracks.length) this.background(this.subscribeRemoteUser(u.userId));
      }
      return result;
    } catch (e) {
      const err = e instanceof ParleyError ? e : new ParleyError(ErrorCode.SIGNAL_REQUEST_ERROR, String(e));
      this.emit('joinResult', { code: err.code, hex: err.hex, message: err.message });
      throw err;
    }
  }

  async leaveChannel() {
    this.check(this.channel, ErrorCode.NOT_IN_CHANNEL, 'not in a channel');
    this.check(!this.leaving, ErrorCode.ALREADY_LEAVING, 'already leaving');
    this.leaving = true;
    try {
      this.closeMedia();
      await this.request('leave');
      this.emit('leaveResult', { code: 0 });
    } finally {
      this.endCall();
      this.leaving = false;
    }
  }

  // The call is over (left, removed or failed to resume): no media, no timers, no
  // channel. Pending requests are failed by the socket's close, not here.
  endCall() {
    this.callCount++;
    this.closeMedia();
    clearInterval(this.heartbeat);
    clearInterval(this.statsTimer);
    this.heartbeat = null;
    this.statsTimer = null;
    this.prevStats = null;
    this.load = null;  // the device-load filter (./network.js)
    this.quality.reset();
    this.remoteQuality.clear();
    this.channel = null;
    this.remoteUsers.clear();
    this.heardFrom.clear();
  }

  /** Data messages on or off: the data connection opens now (in a channel) or at each
   * join, and closes. 'dataChannelState' ({ state }) follows it. */
  async enableDataMessages(enable = true) {
    this.dataEnabled = !!enable;
    if (!enable) this.data.close();
    else if (this.channel && !this.data.pc) await this.data.open();
  }
  /** Sends `data` (string or bytes, at most 64 KiB) over the data connection: options
   * { to: userId ('' = everyone else), reliable, ordered }. Received: 'dataMessage'
   * ({ userId, data, reliable, ordered }). Throws 0x0F07000x codes (./data.js). */
  sendDataMessage(data, options) { this.data.send(data, options); }

  isInCall() { return !!this.channel; }
  getRemoteUsers() { return [...this.remoteUsers.values()]; }

  async setClientRole(role) {
    this.check(this.channel, ErrorCode.NOT_IN_CHANNEL, 'not in a channel');
    const data = await this.request('setRole', { role });
    this.role = data.role;
    return data;
  }

  /** Sends `data` (text, at most 4096 bytes of UTF-8) to the whole channel, or to one
   * member when `toUserId` is given; they get a `message` event. Rejects with
   * 0x01010304 outside a channel, 0x0F010003 too long, and what the server answers:
   * 0x0F010006 faster than 10 a second (bursts of 20), 0x0F010005 no such member. */
  sendMessage(data, toUserId) { return sendMessage(this, data, toUserId); }

  /** `volumeIndication` events ({ speakers: [{ userId, volume }] }, 0..255; '' is this microphone)
   * every `intervalMs` (0 stops; 100..60000, rounded up to the server's 500 ms tick),
   * smoothed by `smooth` (0..9). Rejects with 0x0F010005 outside those ranges. */
  enableAudioVolumeIndication(intervalMs, smooth = 3) { return enableVolumeIndication(this, intervalMs, smooth); }

  /** The camera's size, frame rate and bitrate ceiling: { width, height, fps,
   * bitrateKbps } (missing fields keep the default, 640x360 at 30 fps, 800 kbps), with
   * the native limits (else 0x01010405). While publishing it applies at once, without
   * a renegotiation: the capture changes size and rate, the sender its ceiling. */
  async setVideoEncoderConfiguration(config) {
    const c = videoConfig(config);
    this.check(c, ErrorCode.PUBLISH_CONFIG_INVALID, `invalid video configuration ${JSON.stringify(config)}`);
    this.video = c;
    if (this.publish.video) await applyVideoConfig(this.publishPc, this.localStream?.getVideoTracks()[0], c, this.pausedLayers);
  }

  /** Dual stream (simulcast): the camera published as a big layer (the encoder
   * configuration) and a small one (`small`: { scale, fps, bitrateKbps }, by default a
   * half-size picture at 15 fps and 200 kbps), so that each subscriber gets the one it
   * asks for or can carry. On by default; applies from the next publish. Invalid `small`
   * rejects with 0x01010405. */
  enableDualStreamMode(enabled, small = {}) {
    const c = smallStreamConfig(small);
    this.check(c, ErrorCode.PUBLISH_CONFIG_INVALID, `invalid small stream ${JSON.stringify(small)}`);
    this.dualStream = !!enabled;
    this.smallStream = c;
  }

  /** Which layer of `userId`'s camera to receive: VideoStreamType.BIG (the default),
   * SMALL or AUTO (the SFU picks what this connection can carry). With no `userId` (the
   * default for everyone without a type of their own), use setRemoteDefaultVideoStreamType.
   * A bad user or type rejects with 0x01010501; outside a channel, 0x01030204. */
  setRemoteVideoStreamType(userId, type) {
    this.check(typeof userId === 'string' && userId, ErrorCode.SUBSCRIBE_CONFIG_INVALID, 'setRemoteVideoStreamType needs a userId');
    return this.streamType({ userId, streamType: type });
  }
  setRemoteDefaultVideoStreamType(type) { return this.streamType({ streamType: type }); }
  async streamType(fields) {
    this.check(Object.values(VideoStreamType).includes(fields.streamType), ErrorCode.SUBSCRIBE_CONFIG_INVALID,
      `no video stream type ${fields.streamType}: big, small or auto`);
    this.check(this.channel, ErrorCode.INVALID_STATE, 'not in a channel');
    await this.request('setRemoteVideoStreamType', fields);
  }

  /** Published audio's channels, bitrate and scenario (AudioProfile, AudioScenario: the
   * native SDK's numbers). Before publishing, or while publishing: the microphone is
   * captured again for it and the audio published again. Other values reject with
   * 0x01010405. */
  async setAudioProfile(profile, scenario = AudioScenario.SPEECH) {
    const settings = audioSettings(profile, scenario);
    this.check(settings, ErrorCode.PUBLISH_CONFIG_INVALID, `no audio profile ${profile} / scenario ${scenario}`);
    this.audio = settings;
    if (!this.channel || !this.publish.audio || !this.localStream) return;
    for (const t of this.localStream.getAudioTracks()) { t.stop(); this.localStream.removeTrack(t); }
    await this.renegotiatePublish({ ...this.publish });
  }

  /** The next frame of a video track as an image Blob: a remote user's 'camera' or
   * 'screen' as received, or (userId '' or null) the local camera as captured. `type`
   * 'image/png' (default) or 'image/jpeg'. Rejects with 0x0F010005 for another track or
   * type, 0x0F060001 when the track is not received (or not published) or no frame
   * comes within 3 s. */
  async takeSnapshot(userId, track = Track.CAMERA, type = 'image/png') {
    this.check(track === Track.CAMERA || track === Track.SCREEN, ErrorCode.INVALID_FIELD, `no video track ${track}`);
    this.check(type === 'image/png' || type === 'image/jpeg', ErrorCode.INVALID_FIELD, `no image type ${type}`);
    const media = userId
      ? this.subscribePc?.getReceivers().map((r) => r.track).find((t) => t.id === `${userId}-${track}` && t.readyState === 'live')
      : (track === Track.CAMERA ? this.localStream?.getVideoTracks()[0] : this.screenStream?.getVideoTracks()[0]);
    this.check(media, ErrorCode.SNAPSHOT_FAILED, `no ${track} of ${userId || 'this user'} is here`);
    return snapshotOf(media, type);
  }

  /** Hands the server a new token for the call in progress (after `authInfoWillExpire`,
   * or any time): the forms joinChannel takes, for the same channel and user. Resolves
   * with { expiresAt }; rejects with the server's code (0x02010205 for another channel
   * or user, 0x05040002 expired), 0x01010304 outside a channel. */
  async refreshAuthInfo(auth) {
    this.check(this.channel, ErrorCode.NOT_IN_CHANNEL, 'not in a channel');
    return this.request('refreshToken', joinCredentials(auth));
  }

  // ---- publish --------------------------------------------------------------
  publishLocalAudioStream(enable) { return this.setPublish('audio', enable); }
  publishLocalVideoStream(enable) { return this.setPublish('video', enable); }
  /** Shares the screen; { audio: true } asks for its sound too, where the browser
   * offers it (getScreenStream().getAudioTracks() says whether it did): it goes in the
   * audio track, mixed with the microphone, or alone when the microphone is not
   * published. */
  startScreenShare(options = {}) {
    if (!this.publish.screen) this.screenAudio = !!options.audio;
    return this.setPublish('screen', true);
  }
  stopScreenShare() { return this.setPublish('screen', false); }

  async setPublish(kind, enable) {
    this.check(this.channel, ErrorCode.NOT_IN_CHANNEL, 'join a channel before publishing');
    if (enable && this.role === Role.AUDIENCE) throw this.fail(ErrorCode.PUBLISH_WRONG_ROLE, 'audience cannot publish');
    if (this.publish[kind] === !!enable) {
      if (enable) throw new ParleyError(kind === 'screen' ? ErrorCode.ALREADY_PUBLISHING_SCREEN : ErrorCode.ALREADY_PUBLISHING);
      throw new ParleyError(ErrorCode.NOT_PUBLISHING);
    }
    const before = { ...this.publish };
    this.publish[kind] = !!enable;
    try {
      await this.renegotiatePublish(before);
      this.emit('publishStateChanged', { ...this.publish });
    } catch (e) {
      this.publish = before;
      throw e;
    }
  }

  // One publish connection per set of tracks (./publishing.js).
  renegotiatePublish(before) { return renegotiatePublish(this, before); }

  /** The configuration of every RTCPeerConnection of the call: bundled, with the TURN
   * and STUN servers the join (or the last resume) answer gave, relay only if asked. */
  rtcConfiguration() {
    // Only the URL forms the server sends (a malformed one would make the browser refuse
    // the whole configuration).
    const form = /^(stun:[A-Za-z0-9.-]+|stun:\[[0-9A-Fa-f:.]+\]|turns?:([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]))(:\d{1,5})?(\?transport=(udp|tcp))?$/;
    const given = Array.isArray(this.channel?.iceServers) ? this.channel.iceServers : [];
    const iceServers = given.map((s) => ({ ...s, urls: [].concat(s?.urls ?? []).filter((u) => typeof u === 'string' && form.test(u) && !(u.startsWith('stun:') && u.includes('?'))) }))
      .filter((s) => s.urls.length > 0);
    return { bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require', iceServers,
      iceTransportPolicy: this.relayOnly ? 'relay' : 'all' };
  }

  mediaConstraints(kind) {
    const id = this.devices[kind];
    if (kind === 'audio') return audioConstraints(this.audio, id);
    return videoConstraints(this.video, id);
  }

  // ---- mute and devices -------------------------------------------------------
  /** Mutes the microphone: silence is sent, the track stays published, and the others
   * get remoteTrackMuted. Also before publishing (it applies when publishing starts). */
  muteLocalMic(mute) { return this.setMuted('audio', mute); }
  /** Mutes the camera: black frames are sent (the others get remoteTrackMuted). */
  muteLocalCamera(mute) { return this.setMuted('video', mute); }
  isLocalMicMuted() { return this.muted.audio; }
  isLocalCameraMuted() { return this.muted.video; }

  async setMuted(kind, mute) {
    mute = !!mute;
    const changed = this.muted[kind] !== mute;
    this.muted[kind] = mute;
    const tracks = kind === 'audio' ? this.localStream?.getAudioTracks() : this.localStream?.getVideoTracks();
    for (const t of tracks || []) t.enabled = !mute;
    // The published audio track may be a mix with the screen's sound, or that alone: muted too.
    const sent = this.publishPc?.getSenders().find((x) => x.track?.kind === 'audio')?.track;
    if (kind === 'audio' && sent) sent.enabled = !mute;
    if (changed) this.emit('localTrackMuted', { track: kind === 'audio' ? Track.AUDIO : Track.CAMERA, muted: mute });
    if (this.channel && (kind === 'audio' ? this.audioOut : this.publish.video) && this.signal) {
      await this.request('mute', { tracks: [kind === 'audio' ? Track.AUDIO : Track.CAMERA], muted: mute });
    }
  }

  /** Chooses the microphone (a deviceId from navigator.mediaDevices.enumerateDevices(),
   * or null for the default). While publishing, the new capture replaces the old one
   * on the same sender (RTCRtpSender.replaceTrack): no renegotiation, the others keep
   * receiving the same track. Not publishing: used when publishing starts. A device that
   * cannot be opened rejects with 0x01040404 (microphone) / 0x01040104 (camera) and the
   * previous device stays in use. */
  setAudioInputDevice(deviceId) { return this.switchDevice('audio', deviceId); }
  /** Chooses the camera; as setAudioInputDevice. */
  setVideoInputDevice(deviceId) { return this.switchDevice('video', deviceId); }
  /** The deviceId chosen for 'audio' or 'video' (null: the browser's default). */
  getInputDevice(kind) { return this.devices[kind]; }

  switchDevice(kind, deviceId) { return switchDevice(this, kind, deviceId); }
  /** The browser's devices: { microphones, cameras, speakers }, each [{ deviceId, label }]. */
  enumerateDevices() { return listDevices(); }
  /** Remote audio the engine plays (createEngine({ playAudio: true }); ./playout.js): volumes 0..400 (100 as received;
   * else 0x0F010005), a user muted, the speaker (a Promise: 0x01040410 for no such device), the level played, 0..255. */
  setPlayoutVolume(volume) { this.playing().setVolume(volume); }
  setRemoteAudioVolume(userId, volume) { this.playing().setUserVolume(userId, volume); }
  muteRemoteAudioPlaying(userId, mute) { this.playing().setUserMuted(userId, mute); }
  setAudioOutputDevice(deviceId) { return this.playing().setSink(deviceId); }
  getPlayoutLevel() { return this.playing().level(); }
  playing() { this.check(this.playout, ErrorCode.INVALID_STATE, 'remote audio is played by the page: createEngine({ playAudio: true })'); return this.playout; }

  stopLocal() { stopLocal(this); }

  /** The local camera/microphone stream, once publishing (for a preview tile). The same
   * object across device switches; a new one when publishing starts again. */
  getLocalStream() { return this.localStream; }
  /** The screen capture while sharing (startScreenShare), else null. */
  getScreenStream() { return this.screenStream; }

  // ---- subscribe ------------------------------------------------------------
  /** Subscribes to a remote user's tracks (all by default). Tracks arrive through
   * 'remoteTrackAvailable'. */
  async subscribeRemoteUser(userId, tracks) {
    this.check(this.channel, ErrorCode.NOT_IN_CHANNEL, 'join a channel before subscribing');
    if (!userId) throw new ParleyError(ErrorCode.SUBSCRIBE_CONFIG_INVALID, 'userId is required');
    const data = await this.request('subscribe', tracks ? { userId, tracks } : { userId });
    if (data.sdp) await this.applySubscribeOffer(data.sdp);
    return data;
  }

  /** Stops receiving a remote user's tracks (all, or those named: 'audio', 'camera',
   * 'screen'); each goes as 'remoteTrackUnavailable'. */
  async unsubscribeRemoteUser(userId, tracks) {
    this.check(this.channel, ErrorCode.NOT_IN_CHANNEL, 'not in a channel');
    const data = await this.request('unsubscribe', tracks ? { userId, tracks } : { userId });
    for (const track of tracks || this.remoteUsers.get(userId)?.tracks || []) this.emit('remoteTrackUnavailable', { userId, track });
    return data;
  }

  // The server's side of our publish connection failed. Where the network explains it
  // (no ICE or DTLS within the server's bound, consent lost) the same tracks go out
  // again on a new connection (updatePublish, a new transport on the server), as the
  // native SDK does; a refused handshake or a server error is only reported. Each such
  // failure takes the server its connect bound or more to declare: no spin.
  recoverPublish(m) {
    if (!this.channel || this.leaving) return;
    this.fail(m.code, m.message);
    if (!['ice-timeout', 'dtls-timeout', 'consent-lost'].includes(m.reason)) return;
    if (!this.publish.audio && !this.publish.video && !this.publish.screen) return;
    this.background(this.renegotiatePublish({ ...this.publish }));
  }

  recoverSubscriptions(m) {
    if (!this.channel || this.leaving) return;  // our own leave closed it
    this.fail(m.code, m.message);
    this.subscribePc?.close();
    this.subscribePc = null;
    this.subscribeChain = null;
    this.playout?.removeAll();
    for (const userId of m.users || []) {
      if (this.remoteUsers.get(userId)?.tracks?.length)
        this.background(this.subscribeRemoteUser(userId));
    }
  }

  /** Emits `startupPhase` ({ phase, ms }: ms since joinChannel began) once per phase and join. */
  phase(name) { startupPhase(this, name); }

  /** Applies the server's subscribe offer (./subscribing.js); offers go one at a time, in order. */
  applySubscribeOffer(sdp) { return applySubscribeOffer(this, sdp); }

  // ---- stats and network quality -------------------------------------------
  startStats() {
    clearInterval(this.statsTimer);
    this.statsTimer = setInterval(() => this.sampleStats().catch(() => {}), 2000);
  }

  /** Counters of both connections (./stats.js, collectStats). */
  getStats() { return collectStats(this.publishPc, this.subscribePc); }

  // Every 2 s: the stats sample and the local quality (./network.js).
  sampleStats() { return sampleNetwork(this); }
  // The link is lost: the local user is down (6, 6) at once.
  linkLost() { qualityChanged(this, this.quality.lost()); }

  emitQuality(userId, pair) { if (pair) this.emit('networkQuality', { userId, ...pair }); }
  // A user object's pair as the server last had it (those who join later see it), and
  // (6, 6) for a member whose connection is down (online: false) until it is back.
  userQuality(u) {
    const q = u?.networkQuality, down = u?.online === false;
    if (down) this.emitQuality(u.userId, this.remoteQuality.disconnected(u.userId));
    if (q && typeof q === 'object') this.emitQuality(u.userId, this.remoteQuality.relayed(u.userId, q.up, q.down));
    if (!down) this.emitQuality(u.userId, this.remoteQuality.connected(u.userId));
  }

  // ---- teardown -------------------------------------------------------------
  closeMedia() {
    stopStartupWatch(this);
    this.data.close();
    this.publishPc?.close();
    this.subscribePc?.close();
    this.publishPc = null;
    this.subscribePc = null;
    this.subscribeChain = null;
    this.publish = { audio: false, video: false, screen: false };
    this.audioOut = false;
    this.stopLocal();
  }

  /** Leaves (if needed) and releases everything; later calls reject with 0x01030204. */
  destroy() {
    this.destroyed = true;
    this.unwatchDevices();
    this.endCall();
    this.playout?.close();
    this.signal?.close();
    this.signal = null;
  }
}

/** Creates an engine. options: { server: 'ws://host:port', requestTimeoutMs, reconnect, videoCodec, playAudio, dataMessages, relayOnly }. */
export function createEngine(options) {
  return new Engine(options);
}
