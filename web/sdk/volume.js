// Volume indication (docs/protocol.md, setVolumeIndication): the server sends the
// volume of every member publishing audio at the interval asked for; the engine adds
// its own microphone's (from getStats' media-source audioLevel) and smooths each user's
// over the ones before, as the native SDK does.
import { ErrorCode } from './errors.js';
import { ParleyError } from './parley-error.js';

/** A level in dBov as a volume 0..255: 0 at -60 dBov or quieter, 255 at 0 dBov. */
export function volumeFromDbov(dbov) {
  if (!Number.isFinite(dbov) || dbov <= -60) return 0;
  return Math.min(255, Math.floor(((dbov + 60) * 255) / 60));
}

/** A linear audio level (0..1, WebRTC's audioLevel) as a volume 0..255. */
export const volumeFromLinear = (level) => (level > 0 ? volumeFromDbov(20 * Math.log10(level)) : 0);

/**
 * The entries to report: `list` ([{ userId, volume }]) smoothed against `previous`
 * (a Map userId -> smoothed value, replaced in place) with `smooth` 0..9 (the new value
 * weighs (10 - smooth) / 10).
 */
export function smoothVolumes(previous, list, smooth) {
  const keep = smooth / 10;
  const next = new Map();
  const out = [];
  for (const { userId, volume } of list) {
    if (next.has(userId)) continue;
    const before = previous.get(userId);
    const s = before === undefined ? volume : keep * before + (1 - keep) * volume;
    next.set(userId, s);
    out.push({ userId, volume: Math.round(s) });
  }
  previous.clear();
  for (const [k, v] of next) previous.set(k, v);
  return out;
}

/** Validates and stores the setting, and asks the server when in a call. */
export async function enableVolumeIndication(engine, intervalMs, smooth = 3) {
  if (!Number.isInteger(intervalMs) || (intervalMs !== 0 && (intervalMs < 100 || intervalMs > 60000)) ||
      !Number.isInteger(smooth) || smooth < 0 || smooth > 9) {
    throw new ParleyError(ErrorCode.INVALID_FIELD, 'intervalMs is 0 or 100..60000, smooth 0..9');
  }
  engine.volumeIndication = { intervalMs, smooth, previous: new Map() };
  if (engine.channel) await engine.request('setVolumeIndication', { intervalMs });
}

/** The local microphone's audioLevel now (0..1), or null when not publishing audio. */
async function localLevel(engine) {
  const pc = engine.publishPc;
  if (!pc || !engine.publish?.audio) return null;
  let level = null;
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'media-source' && s.kind === 'audio' && typeof s.audioLevel === 'number') level = s.audioLevel;
  });
  return level;
}

/** A volumeIndication notification `m`: the app hears `volumeIndication` ({ speakers: [{ userId, volume }] }). */
export async function onVolumeIndication(engine, m) {
  const v = engine.volumeIndication;
  if (!v || v.intervalMs <= 0 || !Array.isArray(m.speakers)) return;
  const list = [];
  const level = await localLevel(engine).catch(() => null);
  if (level !== null) list.push({ userId: '', volume: volumeFromLinear(level) });
  for (const s of m.speakers) {
    if (s && typeof s.userId === 'string' && engine.remoteUsers.has(s.userId) && Number.isInteger(s.volume) &&
        s.volume >= 0 && s.volume <= 255) list.push({ userId: s.userId, volume: s.volume });
  }
  engine.emit('volumeIndication', { speakers: smoothVolumes(v.previous, list, v.smooth) });
}
