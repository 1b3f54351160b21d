// The engine's network sampling (parley.js): every 2 s both connections' counters give
// the `stats` sample and the interval's raw quality bands (./stats.js), the local
// quality's hysteresis (./quality.js) decides what is reported, and a changed local
// pair is emitted, warned about and sent to the server. Like ./link.js, these are the
// engine's behaviour kept apart; the state stays on the engine.
import { ErrorCode } from './errors.js';
import { deviceLoad, networkSample, rawBands } from './stats.js';

/** One 2 s sample: the `stats` event, then the local quality. */
export async function sampleNetwork(engine) {
  const now = performance.now();
  const s = await engine.getStats();
  const prev = engine.prevStats;
  engine.prevStats = { at: now, s, seen: prev?.seen || {} };
  if (!prev || !engine.channel) return;
  engine.emit('stats', networkSample(prev.s, s, (now - prev.at) / 1000,
    { publishing: !!engine.publishPc, subscribing: !!engine.subscribePc }));
  // The device cannot keep up (0x01060101), and later can again (0x01060102).
  engine.load ??= { limited: false, streak: 0 };
  const load = deviceLoad(engine.load, !!s.send?.cpuLimited);
  if (load === 'low') engine.warn(ErrorCode.LOW_PERFORMANCE, 'the browser lowers the video: the CPU cannot keep up');
  if (load === 'restored') engine.warn(ErrorCode.PERFORMANCE_RESTORED, 'the CPU keeps up with the video again');
  if (engine.state !== 'connected') return;  // reconnecting: (6, 6) until the link is back
  const expecting = !!engine.subscribePc && [...engine.remoteUsers.values()].some((u) => u.tracks?.length);
  const raw = rawBands(prev.s, s, prev.seen, { expecting });
  engine.prevStats.seen = raw.seen;
  qualityChanged(engine, engine.quality.feed(raw.up, raw.down));
}

/** After the local pair moved ({ changed, warning } from LocalQuality): the app hears
 * it, the weak / recovered warnings follow it, and the server is told (it relays the
 * pair to the others). */
export function qualityChanged(engine, { changed, warning }) {
  if (!changed) return;
  const { up, down } = engine.quality;
  engine.emit('networkQuality', { userId: '', up, down });
  if (warning === 'weak') engine.warn(ErrorCode.NETWORK_WEAK);
  if (warning === 'recovered') engine.warn(ErrorCode.NETWORK_RECOVERED);
  if (!engine.signal || engine.state !== 'connected') return;
  // The answer is not waited on, as in the native SDK: a server that predates the
  // request (0x0F010002), a timeout or a link that dropped under it changes nothing the
  // app could act on, and the pair goes again with its next change.
  engine.request('reportStats', { up, down }).catch(() => {});
}
