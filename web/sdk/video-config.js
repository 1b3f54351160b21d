// The camera's encoder configuration in the browser: what the native SDK's
// SetVideoEncoderConfiguration sets, done with capture constraints (size, frame rate)
// and the sender's encoding parameters (bitrate ceiling, frame rate), which apply
// while publishing without a renegotiation.

/** The default: 640x360 at 30 fps, 800 kbps at most (as natively). */
export const kDefaultVideo = Object.freeze({ width: 640, height: 360, fps: 30, bitrateKbps: 800 });

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
 * and the sender's bitrate ceiling and frame rate. */
export async function applyVideoConfig(pc, track, config) {
  if (!track) return;
  await track.applyConstraints(videoConstraints(config));
  const sender = pc?.getSenders().find((s) => s.track === track);
  if (!sender) return;
  const params = sender.getParameters();
  if (!params.encodings || !params.encodings.length) params.encodings = [{}];
  params.encodings[0].maxBitrate = config.bitrateKbps * 1000;
  params.encodings[0].maxFramerate = config.fps;
  await sender.setParameters(params);
}
