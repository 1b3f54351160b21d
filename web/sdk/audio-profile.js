// Audio profiles in the browser: what the native SDK's SetAudioProfile does with
// opusenc, done with what a browser lets a page set — capture constraints, and the Opus
// parameters of the SDP (RFC 7587 §7: stereo, sprop-stereo, maxaveragebitrate, usedtx)
// that the browser's encoder and decoder follow.

/** ARTC's numbers, as the native SDK (AudioProfile in parley/types.hpp). */
export const AudioProfile = Object.freeze({
  LOW_QUALITY: 0,               // mono, narrowband, 12 kbps
  BASIC_QUALITY: 1,             // mono, wideband, 24 kbps
  HIGH_QUALITY: 2,              // mono, fullband, 32 kbps (the default)
  STEREO_HIGH_QUALITY: 3,       // stereo, fullband, 64 kbps
  SUPER_HIGH_QUALITY: 4,        // mono, fullband, 96 kbps
  STEREO_SUPER_HIGH_QUALITY: 5, // stereo, fullband, 128 kbps
});

/** Speech (voice processing, DTX) or music (none of the processing, no DTX). */
export const AudioScenario = Object.freeze({ SPEECH: 0, MUSIC: 1 });

const kSettings = [
  { channels: 1, bitrate: 12000, maxPlaybackRate: 8000 },
  { channels: 1, bitrate: 24000, maxPlaybackRate: 16000 },
  { channels: 1, bitrate: 32000, maxPlaybackRate: 48000 },
  { channels: 2, bitrate: 64000, maxPlaybackRate: 48000 },
  { channels: 1, bitrate: 96000, maxPlaybackRate: 48000 },
  { channels: 2, bitrate: 128000, maxPlaybackRate: 48000 },
];

/** The settings of a profile and scenario, or null when either is not one of the
 * enums' values. */
export function audioSettings(profile, scenario) {
  if (!Number.isInteger(profile) || !kSettings[profile]) return null;
  if (scenario !== AudioScenario.SPEECH && scenario !== AudioScenario.MUSIC) return null;
  return { ...kSettings[profile], music: scenario === AudioScenario.MUSIC };
}

/** getUserMedia's audio constraints. A browser captures one channel while it cancels
 * echo, so stereo turns echo cancellation off; music turns off noise suppression and
 * gain control, which take music for noise. */
export function audioConstraints(settings, deviceId) {
  const c = {
    channelCount: settings.channels,
    echoCancellation: settings.channels === 1,
    noiseSuppression: !settings.music,
    autoGainControl: !settings.music,
  };
  if (deviceId) c.deviceId = { exact: deviceId };
  return c;
}

// The payload types of Opus in an SDP (any section).
function opusPayloadTypes(sdp) {
  return [...sdp.matchAll(/^a=rtpmap:(\d+) opus\/48000(\/2)?\r?$/gim)].map((m) => m[1]);
}

/** `sdp` with `params` set on every Opus format's a=fmtp line (added when missing);
 * other parameters are kept. */
export function withOpusParams(sdp, params) {
  let out = sdp;
  for (const pt of opusPayloadTypes(sdp)) {
    const fmtp = new RegExp(`^a=fmtp:${pt} ([^\\r\\n]*)`, 'm');
    const m = out.match(fmtp);
    const kept = new Map((m ? m[1].split(';') : []).filter(Boolean).map((p) => {
      const [k, ...v] = p.trim().split('=');
      return [k, v.join('=')];
    }));
    for (const [k, v] of Object.entries(params)) kept.set(k, String(v));
    const line = `a=fmtp:${pt} ${[...kept].map(([k, v]) => `${k}=${v}`).join(';')}`;
    out = m ? out.replace(fmtp, line) : out.replace(new RegExp(`^(a=rtpmap:${pt} [^\\r\\n]*)(\\r?\\n)`, 'mi'), `$1$2${line}$2`);
  }
  return out;
}

/** The publish offer as the server is told it: a stereo profile says it sends stereo
 * (sprop-stereo=1), so the server answers stereo=1 and offers the stream to others as
 * stereo. The browser's own description stays as it wrote it. */
export function offerForServer(sdp, settings) {
  return settings.channels === 2 ? withOpusParams(sdp, { stereo: 1, 'sprop-stereo': 1 }) : sdp;
}

/** The server's publish answer as the browser applies it: the receiver's wishes that
 * the browser's encoder follows — the bitrate, the channels, the audio band, and DTX
 * for speech only. */
export function answerForBrowser(sdp, settings) {
  return withOpusParams(sdp, {
    maxaveragebitrate: settings.bitrate,
    maxplaybackrate: settings.maxPlaybackRate,
    stereo: settings.channels === 2 ? 1 : 0,
    usedtx: settings.music ? 0 : 1,
  });
}

/** A subscribe answer that asks for stereo on every Opus format the offer announced
 * as stereo (sprop-stereo=1): the browser's decoder then keeps both channels. */
export function stereoAnswer(offer, answer) {
  const stereo = opusPayloadTypes(offer).filter((pt) =>
    new RegExp(`^a=fmtp:${pt} [^\\r\\n]*sprop-stereo=1`, 'm').test(offer));
  let out = answer;
  for (const pt of stereo) {
    const only = new RegExp(`^a=rtpmap:${pt} `, 'mi');
    if (!only.test(out)) continue;
    // withOpusParams on this payload type alone.
    const lines = out.split(/(\r?\n)/);
    const fmtp = lines.findIndex((l) => l.startsWith(`a=fmtp:${pt} `));
    if (fmtp >= 0) {
      if (!/(^|[ ;])stereo=1/.test(lines[fmtp])) lines[fmtp] = `${lines[fmtp]};stereo=1`;
      out = lines.join('');
    } else {
      out = out.replace(new RegExp(`^(a=rtpmap:${pt} [^\\r\\n]*)(\\r?\\n)`, 'mi'), `$1$2a=fmtp:${pt} stereo=1$2`);
    }
  }
  return out;
}
