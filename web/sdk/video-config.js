// The camera's encoder configuration in the browser: what the native SDK's
// SetVideoEncoderConfiguration sets, done with capture constraints (size, frame rate)
// and the sender's encoding parameters (bitrate ceiling, frame rate), which apply
// while publishing without a renegotiation.

/** The default: 640x360 at 30 fps, 800 kbps at most (as natively). */
export const kDefaultVideo = Object.freeze({ width: 640, height: 360, fps: 30, bitrateKbps: 800 });

/** Dual stream's small layer (simulcast): the camera scaled down by 2 a side (a quarter
 * of its area: 320x180 of the default), 15 fps, 200 kbps at most. */
export const kDefaultSmallStream = Object.freeze({ scale: 2, fps: 15, bitrateKbps: 200 });

/** `config` merged over the small layer's default and checked (scale 1..16, 1..60 fps,
 * 30..5000 kbps); null when outside. */
export function smallStreamConfig(config = {}) {
  const c = { ...kDefaultSmallStream, ...config };
  if (typeof c.scale !== 'number' || !(c.scale >= 1 && c.scale <= 16)) return null;
  if (!Number.isInteger(c.fps) || c.fps < 1 || c.fps > 60) return null;
  if (!Number.isInteger(c.bitrateKbps) || c.bitrateKbps < 30 || c.bitrateKbps > 5000) return null;
  return { scale: c.scale, fps: c.fps, bitrateKbps: c.bitrateKbps };
}

/** The smallest camera (in pixels: 480x270) below which the small layer is not sent:
 * a quarter of it would be a thumbnail nobody needs, and the browser's encoder keeps one
 * layer at such sizes, the small one if it is active, so the big one would vanish. */
export const kSmallStreamMinPixels = 480 * 270;

/** Whether the small layer is sent for a camera of `config`'s size. */
export function smallStreamActive(config) {
  return config.width * config.height >= kSmallStreamMinPixels;
}

/** The camera's sendEncodings: one, or with `small` the small layer (rid 'q') and the
 * big one (rid 'f'), smallest first: the order the server reads as the layers' (RFC
 * 8853 a=simulcast lists them so). The small one is inactive below kSmallStreamMinPixels. */
export function cameraEncodings(config, small) {
  const big = { maxBitrate: config.bitrateKbps * 1000, maxFramerate: config.fps };
  if (!small) return [big];
  return [{ rid: 'q', active: smallStreamActive(config), scaleResolutionDownBy: small.scale,
    maxBitrate: small.bitrateKbps * 1000, maxFramerate: small.fps }, { rid: 'f', ...big }];
}

/** `config` merged over the default and checked with the native limits (16..3840 x
 * 16..2160, even sizes, 1..60 fps, 50..20000 kbps); null when outside them. */
export function videoConfig(config = {}) {
  const c = { ...kDefaultVideo, ...config };
  const int = (v, lo, hi) => Number.isInteger(v) && v >= lo && v <= hi;
  if (!int(c.width, 16, 3840) || !int(c.height, 16, 2160) || c.width % 2 || c.height % 2) return null;
  if (!int(c.fps, 1, 60) || !int(c.bitrateKbps, 50, 20000)) return null;
  return { width: c.width, height: c.height, fps: c.fps, bitrateKbps: c.bitrateKbps };
}

/** getUserMedia's video constraints for `config` (and a chosen camera). */
export function videoConstraints(config, deviceId) {
  const c = { width: { ideal: config.width }, height: { ideal: config.height }, frameRate: { ideal: config.fps } };
  if (deviceId) c.deviceId = { exact: deviceId };
  return c;
}

/** Applies `config` to a camera track being sent: its capture size and frame rate,
 * and the sender's bitrate ceiling and frame rate (the big layer's: the last encoding);
 * with two layers the small one is (de)activated for the new size. */
export async function applyVideoConfig(pc, track, config, paused = new Set()) {
  if (!track) return;
  const sender = senderOf(pc, track);
  // The small layer goes off before the capture shrinks and on after it grows: never
  // both layers on a capture too small for two (the browser would keep the small one).
  const small = sender && sender.getParameters().encodings?.length > 1 ? smallStreamActive(config) : null;
  if (small === false) await setEncodings(sender, config, paused);
  await track.applyConstraints(videoConstraints(config));
  if (sender && small !== false) await setEncodings(sender, config, paused);
}

const senderOf = (pc, track) => pc?.getSenders().find((s) => s.track === track);

// The big layer's ceiling from `config`; with two layers, which are on (pauseEncodings).
async function setEncodings(sender, config, paused) {
  const params = sender.getParameters();
  if (!params.encodings || !params.encodings.length) params.encodings = [{}];
  const big = params.encodings[params.encodings.length - 1];
  big.maxBitrate = config.bitrateKbps * 1000;
  big.maxFramerate = config.fps;
  if (params.encodings.length > 1) pauseEncodings(params.encodings, paused, smallStreamActive(config));
  await sender.setParameters(params);
}

/** The server's publishLayers (publisher economy): the layers whose rid is in `paused`
 * (nobody watches them) are not encoded, the others are; the first (the small layer) only
 * when `firstOn` too, the camera's own choice (off on a camera too small for two).
 * Returns whether an encoding changed. */
export function pauseEncodings(encodings, paused, firstOn) {
  let changed = false;
  encodings.forEach((enc, i) => {
    if (i > 0 && typeof enc.rid !== 'string') return;
    const active = (i > 0 || firstOn) && !paused.has(enc.rid);
    if (enc.active !== active) changed = true;
    enc.active = active;
  });
  return changed;
}

/** Applies the paused layers to the camera of `config` sent on `pc` (track `track`). */
export async function applyPausedLayers(pc, track, config, paused) {
  const sender = track && senderOf(pc, track);
  if (!sender) return;
  const params = sender.getParameters();
  if (params.encodings?.length > 1 && pauseEncodings(params.encodings, paused, smallStreamActive(config))) {
    await sender.setParameters(params);
  }
}
