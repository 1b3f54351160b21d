// Network quality per direction, 0..6, by the rule both SDKs share (docs/protocol.md,
// "Network quality"): each 2 s interval's counters give a raw band per direction (the
// worst band of its metrics), and a hysteresis decides what is reported, so one odd
// interval does not flicker the app's indicator. Everything here is a plain function
// of numbers (no browser, no clock), tested in web/tests/sdk-units.test.mjs.

/**
 * The scale, ARTC's AliEngineNetworkQuality (so a ported app reads the same numbers):
 * 0 excellent .. 4 very bad, 5 down (disconnected); 0..5 grow worse. 6 is "not
 * measured yet", never worse than a measurement (worseQuality).
 */
export const Quality = Object.freeze({ EXCELLENT: 0, GOOD: 1, POOR: 2, BAD: 3, VERY_BAD: 4, DOWN: 5, UNKNOWN: 6 });

/** The worse of two qualities; an unknown one gives way to a measured one. */
export const worseQuality = (a, b) => (a === Quality.UNKNOWN ? b : b === Quality.UNKNOWN ? a : Math.max(a, b));

// Each threshold is the upper bound (exclusive) of bands 0..3; beyond the last, 4.
const band = (value, limits) => {
  const i = limits.findIndex((limit) => value < limit);
  return i < 0 ? Quality.VERY_BAD : i;
};
export const lossBand = (fraction) => band(fraction, [0.01, 0.03, 0.08, 0.15]);
/**
 * A few packets say little about loss (a silent microphone with DTX sends 2.5 a
 * second): an interval's losses count against at least LOSS_FLOOR_PACKETS.
 */
export const LOSS_FLOOR_PACKETS = 50;
const lossOf = (lost, total) => Math.min(1, Math.max(0, lost) / Math.max(total, LOSS_FLOOR_PACKETS));
export const rttBand = (ms) => band(ms, [100, 200, 400, 800]);
export const jitterBand = (ms) => band(ms, [30, 50, 100, 200]);
/** ratio: the available send estimate over the bitrate the encoders want (higher is better). */
export const bandwidthBand = (ratio) => {
  const i = [0.9, 0.6, 0.35, 0.2].findIndex((limit) => ratio >= limit);
  return i < 0 ? Quality.VERY_BAD : i;
};

const finite = (v) => typeof v === 'number' && Number.isFinite(v);

/**
 * The raw up band of one interval. s: { sent, lost, rttMs, bandwidth, acked, wasAcked }:
 * packets sent, and reported lost by the server, over the interval; the round trip
 * (null: unknown); available estimate / wanted bitrate (null: unknown); whether any
 * receiver report arrived in this interval and in the one before.
 */
export function rawUp({ sent = 0, lost = 0, rttMs = null, bandwidth = null, acked = true, wasAcked = false }) {
  if (sent > 0 && wasAcked && !acked) return Quality.DOWN;  // flowing and acknowledged, then nothing at all
  if (!(sent > 0) && !finite(rttMs)) return Quality.UNKNOWN;
  let worst = Quality.EXCELLENT;
  if (sent > 0) worst = Math.max(worst, lossBand(lossOf(lost, sent)));
  if (finite(rttMs)) worst = Math.max(worst, rttBand(rttMs));
  if (finite(bandwidth) && sent > 0) worst = Math.max(worst, bandwidthBand(bandwidth));
  return worst;
}

/**
 * The raw down band of one interval. s: { received, lost, repaired, jitterMs, rttMs,
 * froze, expecting, wasFlowing }: over the interval, packets received (first
 * transmissions), lost after repair, and lost on the way but brought back by
 * retransmission (the network lost them all the same, so loss counts both); the largest
 * inbound jitter, the round trip (null: unknown), whether a remote video froze for more
 * than 500 ms, whether media is expected (someone we subscribe to publishes) and
 * whether it arrived in the interval before.
 */
export function rawDown({ received = 0, lost = 0, repaired = 0, jitterMs = null, rttMs = null, froze = false, expecting = false, wasFlowing = false }) {
  const arrived = Math.max(0, received) + Math.max(0, repaired);
  if (expecting && wasFlowing && !(arrived > 0)) return Quality.DOWN;  // flowing, then nothing at all
  const networkLost = Math.max(0, lost) + Math.max(0, repaired);
  const expected = Math.max(0, received) + networkLost;
  if (!(expected > 0) && !finite(rttMs)) return Quality.UNKNOWN;
  let worst = Quality.EXCELLENT;
  if (expected > 0) {
    worst = Math.max(worst, lossBand(lossOf(networkLost, expected)));
    if (finite(jitterMs)) worst = Math.max(worst, jitterBand(jitterMs));
  }
  if (finite(rttMs)) worst = Math.max(worst, rttBand(rttMs));
  if (froze) worst = Math.max(worst, Quality.BAD);
  return worst;
}

/**
 * The hysteresis: the reported band after raw sample `raw`, given the band reported
 * so far and the raw sample before this one (null: none). It moves when two
 * consecutive measured samples (0..4) are both worse (to the better of them) or both
 * better (to the worse of them); at once when leaving 6 (the first measurement), to 6
 * (nothing measured any more), to or from 5 (down), or for a sample two or more steps
 * worse.
 * The same filter as the native SDK's (sdk/src/core/network_quality.cpp).
 */
export function nextBand(reported, previousRaw, raw) {
  if (raw === reported) return reported;
  if (reported === Quality.UNKNOWN || reported === Quality.DOWN || raw === Quality.DOWN || raw === Quality.UNKNOWN ||
      raw >= reported + 2) return raw;
  if (!(Number.isInteger(previousRaw) && previousRaw >= Quality.EXCELLENT && previousRaw < Quality.DOWN)) return reported;
  if (raw > reported && previousRaw > reported) return Math.min(raw, previousRaw);
  if (raw < reported && previousRaw < reported) return Math.max(raw, previousRaw);
  return reported;
}

/**
 * The local user's reported pair and the weak-network warnings. feed() takes one
 * interval's raw pair and returns what changed: { changed, warning } where warning
 * is 'weak' (the worse measured band reaches 3 or 4, once), 'recovered' (back to 0 or
 * 1 after a weak warning, once) or null; 5 and 6 are left out of the worse band (5 has
 * its own warnings, 0x00000103 / 0x00000105). lost() reports (5, 5) at once.
 */
export class LocalQuality {
  constructor() { this.reset(); }

  reset() {
    this.up = Quality.UNKNOWN;
    this.down = Quality.UNKNOWN;
    this.previous = null;  // the last raw pair
    this.weak = false;
  }

  feed(rawUpBand, rawDownBand) {
    const before = [this.up, this.down];
    this.up = nextBand(this.up, this.previous?.up, rawUpBand);
    this.down = nextBand(this.down, this.previous?.down, rawDownBand);
    this.previous = { up: rawUpBand, down: rawDownBand };
    return this.result(before);
  }

  lost() {
    const before = [this.up, this.down];
    this.up = Quality.DOWN;
    this.down = Quality.DOWN;
    this.previous = null;  // the samples after the link is back start a new pair
    return this.result(before);
  }

  result([up, down]) {
    const changed = up !== this.up || down !== this.down;
    const measured = (q) => (q >= Quality.EXCELLENT && q < Quality.DOWN ? q : -1);
    const worst = Math.max(measured(this.up), measured(this.down));
    let warning = null;
    if (!this.weak && worst >= Quality.BAD) {
      this.weak = true;
      warning = 'weak';
    } else if (this.weak && worst >= Quality.EXCELLENT && worst <= Quality.GOOD) {
      this.weak = false;
      warning = 'recovered';
    }
    return { changed, warning };
  }
}

/**
 * Remote users' pairs: what the server relays (networkQuality), and (5, 5) while the
 * server reports a user's connection lost (userNetwork). Each method returns the pair
 * to emit for that user, or null when nothing changed; a hostile or malformed message
 * changes nothing.
 */
export class RemoteQuality {
  constructor() { this.users = new Map(); }  // userId -> { up, down, relayed: {up, down}, lost }

  static valid(v) { return Number.isInteger(v) && v >= Quality.EXCELLENT && v <= Quality.UNKNOWN; }

  relayed(userId, up, down) {
    if (typeof userId !== 'string' || !userId || !RemoteQuality.valid(up) || !RemoteQuality.valid(down)) return null;
    const u = this.entry(userId);
    u.relayed = { up, down };
    return u.lost ? null : this.show(u, up, down);
  }

  disconnected(userId) {
    if (typeof userId !== 'string' || !userId) return null;
    const u = this.entry(userId);
    u.lost = true;
    return this.show(u, Quality.DOWN, Quality.DOWN);
  }

  connected(userId) {
    const u = this.users.get(userId);
    if (!u?.lost) return null;
    u.lost = false;
    return this.show(u, u.relayed.up, u.relayed.down);
  }

  left(userId) { this.users.delete(userId); }
  clear() { this.users.clear(); }

  entry(userId) {
    if (!this.users.has(userId)) this.users.set(userId, { up: Quality.UNKNOWN, down: Quality.UNKNOWN, relayed: { up: Quality.UNKNOWN, down: Quality.UNKNOWN }, lost: false });
    return this.users.get(userId);
  }

  show(u, up, down) {
    if (u.up === up && u.down === down) return null;
    u.up = up;
    u.down = down;
    return { up, down };
  }
}
