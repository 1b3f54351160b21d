// Remote audio played by the engine itself (createEngine({ playAudio: true })), so the
// playback controls of the native engine work in the browser too: each remote user's
// audio goes through a Web Audio gain of its own (setRemoteAudioVolume 0..400,
// muteRemoteAudioPlaying) into one for the whole playout (setPlayoutVolume 0..400),
// measured there (getPlayoutLevel, 0..255 as volume indication's), and out of one
// <audio> element whose setSinkId chooses the speaker (setAudioOutputDevice).
// Chromium hands a remote WebRTC track to Web Audio only while a media element plays
// it as well: each user's stream also feeds a muted element. Browsers let audio start
// only from a user's gesture: the engine starts its playout in joinChannel, so join
// from a click.
import { ErrorCode } from './errors.js';
import { ParleyError } from './parley-error.js';
import { volumeFromLinear } from './volume.js';

function checkVolume(volume) {
  if (!Number.isInteger(volume) || volume < 0 || volume > 400)
    throw new ParleyError(ErrorCode.INVALID_FIELD, 'a playout volume is an integer 0..400');
}

export class Playout {
  constructor() {
    this.ctx = null;
    this.users = new Map();     // userId -> { source, gain, element }
    this.settings = new Map();  // userId -> { volume, muted }, kept for users who do not play yet
    this.volume = 100;
    this.sinkId = '';
  }

  // The graph's shared end, built on first use (an AudioContext per engine).
  ensure() {
    if (this.ctx) return;
    this.ctx = new AudioContext();
    this.master = this.ctx.createGain();
    this.master.gain.value = this.volume / 100;
    this.analyser = this.ctx.createAnalyser();
    this.analyser.fftSize = 2048;
    const out = this.ctx.createMediaStreamDestination();
    this.master.connect(this.analyser);
    this.master.connect(out);
    this.speaker = new Audio();
    this.speaker.autoplay = true;
    this.speaker.srcObject = out.stream;
    if (this.sinkId && this.speaker.setSinkId) this.speaker.setSinkId(this.sinkId).catch(() => {});
    this.ctx.resume().catch(() => {});
  }

  // The gain a user's settings give.
  gainOf(userId) {
    const s = this.settings.get(userId);
    return !s ? 1 : s.muted ? 0 : s.volume / 100;
  }

  /** Plays `stream` (a remote user's audio) from now on. */
  add(userId, stream) {
    this.ensure();
    this.remove(userId);
    const element = new Audio();
    element.muted = true;
    element.srcObject = stream;
    element.play().catch(() => {});
    const source = this.ctx.createMediaStreamSource(stream);
    const gain = this.ctx.createGain();
    gain.gain.value = this.gainOf(userId);
    source.connect(gain).connect(this.master);
    this.users.set(userId, { source, gain, element });
  }

  remove(userId) {
    const u = this.users.get(userId);
    if (!u) return;
    u.source.disconnect();
    u.gain.disconnect();
    u.element.srcObject = null;
    this.users.delete(userId);
  }

  removeAll() { for (const id of [...this.users.keys()]) this.remove(id); }

  setVolume(volume) {
    checkVolume(volume);
    this.volume = volume;
    if (this.master) this.master.gain.setValueAtTime(volume / 100, this.ctx.currentTime);
  }

  setUserVolume(userId, volume) {
    checkVolume(volume);
    this.settings.set(userId, { muted: false, ...this.settings.get(userId), volume });
    this.apply(userId);
  }

  setUserMuted(userId, muted) {
    this.settings.set(userId, { volume: 100, ...this.settings.get(userId), muted: !!muted });
    this.apply(userId);
  }

  apply(userId) {
    const u = this.users.get(userId);
    // Scheduled, not assigned: Chromium let a remote stream's audio through a gain
    // whose value was assigned 0 while it played.
    if (u) u.gain.gain.setValueAtTime(this.gainOf(userId), this.ctx.currentTime);
  }

  /** The speaker (an audiooutput deviceId; '' the default): 0x01040410 when the
   * browser has no such device, 0x01040405 when it cannot choose one. */
  async setSink(deviceId) {
    this.ensure();
    if (!this.speaker.setSinkId) throw new ParleyError(ErrorCode.AUDIO_PLAY_DEVICE_OPEN_FAILED, 'this browser cannot choose a speaker');
    try {
      await this.speaker.setSinkId(deviceId || '');
    } catch (e) {
      const code = e?.name === 'NotFoundError' ? ErrorCode.AUDIO_PLAY_DEVICE_NOT_FOUND : ErrorCode.AUDIO_PLAY_DEVICE_OPEN_FAILED;
      throw new ParleyError(code, String(e));
    }
    this.sinkId = deviceId || '';
  }

  /** What the playout plays now (after every gain), 0..255. */
  level() {
    if (!this.analyser) return 0;
    const samples = new Float32Array(this.analyser.fftSize);
    this.analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) sum += s * s;
    return volumeFromLinear(Math.sqrt(sum / samples.length));
  }

  close() {
    this.removeAll();
    if (this.speaker) this.speaker.srcObject = null;
    this.ctx?.close().catch(() => {});
    this.ctx = null;
  }
}
