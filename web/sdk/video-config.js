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

/** The camera's sendEncodings: one, or with `small` the small layer (rid 'q') and the
 * big one (rid 'f'), smallest first: the order the server reads as the layers' (RFC
 * 8853 a=simulcast lists them so). */
export function cameraEncodings(config, small) {
  const big = { maxBitrate: config.bitrateKbps * 1000, maxFramerate: config.fps };
  if (!small) return [big];
  return [{ rid: 'q', scaleResolutionDownBy: small.scale, maxBitrate: small.bitrateKbps * 1000, maxFramerate: small.fps },
    { rid: 'f', ...big }];
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
 * and the sender's bitrate ceiling and frame rate (the big layer's: the last encoding). */
export async function applyVideoConfig(pc, track, config) {
  if (!track) return;
  await track.applyConstraints(videoConstraints(config));
  const sender = pc?.getSenders().find((s) => s.track === track);
  if (!sender) return;
  const params = sender.getParameters();
  if (!params.encodings || !params.encodings.length) params.encodings = [{}];
  const big = params.encodings[params.encodings.length - 1];
  big.maxBitrate = config.bitrateKbps * 1000;
  big.maxFramerate = config.fps;
  await sender.setParameters(params);
}
