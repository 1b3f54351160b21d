// Unit tests of the browser SDK's network quality, without a browser: the bands and
// the hysteresis of ./quality.js (the rule both SDKs share), the raw bands of an
// interval from getStats counters (./stats.js), and the engine's glue: the local pair
// emitted and sent with reportStats, remote users' pairs from the server's
// notifications, and a heartbeat left unanswered dropping the link (./link.js).
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Quality, worseQuality, lossBand, rttBand, jitterBand, bandwidthBand, rawUp, rawDown, nextBand, LocalQuality, RemoteQuality } from '../sdk/quality.js';
import { rawBands } from '../sdk/stats.js';
import { startHeartbeat } from '../sdk/link.js';
import { ErrorCode } from '../sdk/errors.js';
import { ParleyError } from '../sdk/parley.js';
import { scriptedCall } from './scripted-call.mjs';

test('bands: each threshold is where the next band starts (0 excellent .. 4 very bad)', () => {
  assert.deepEqual([0, 0.0099, 0.01, 0.0299, 0.03, 0.0799, 0.08, 0.1499, 0.15, 1].map(lossBand), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  assert.deepEqual([0, 99, 100, 199, 200, 399, 400, 799, 800, 5000].map(rttBand), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  assert.deepEqual([0, 29, 30, 49, 50, 99, 100, 199, 200].map(jitterBand), [0, 0, 1, 1, 2, 2, 3, 3, 4]);
  assert.deepEqual([2, 0.9, 0.89, 0.6, 0.59, 0.35, 0.34, 0.2, 0.19, 0].map(bandwidthBand), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
});

test('the scale is ARTC\'s AliEngineNetworkQuality, and unknown gives way to a measurement', () => {
  assert.deepEqual(Quality, { EXCELLENT: 0, GOOD: 1, POOR: 2, BAD: 3, VERY_BAD: 4, DOWN: 5, UNKNOWN: 6 });
  assert.equal(worseQuality(6, 2), 2);
  assert.equal(worseQuality(0, 6), 0);
  assert.equal(worseQuality(6, 6), 6);
  assert.equal(worseQuality(1, 5), 5);
  assert.equal(worseQuality(3, 0), 3);
});

test('raw up: the worst metric; unknown without traffic or rtt; down when acknowledgements stop', () => {
  assert.equal(rawUp({}), 6);
  assert.equal(rawUp({ rttMs: 150 }), 1);                                  // rtt alone is a measurement
  assert.equal(rawUp({ sent: 1000, lost: 0, rttMs: 30 }), 0);
  assert.equal(rawUp({ sent: 1000, lost: 50, rttMs: 30 }), 2);             // 5 % loss
  assert.equal(rawUp({ sent: 1000, lost: 0, rttMs: 450 }), 3);
  assert.equal(rawUp({ sent: 1000, lost: 0, rttMs: 30, bandwidth: 0.5 }), 2);
  assert.equal(rawUp({ sent: 1000, lost: 5000, rttMs: 30 }), 4);           // a hostile count is bounded
  assert.equal(rawUp({ sent: 1000, acked: false, wasAcked: true }), 5);
  assert.equal(rawUp({ sent: 1000, acked: false, wasAcked: false }), 0);   // never acknowledged: no basis for down
});

test('raw down: loss, jitter, rtt and a freeze; down when expected media stops', () => {
  assert.equal(rawDown({}), 6);
  assert.equal(rawDown({ received: 500, lost: 0, jitterMs: 5 }), 0);
  assert.equal(rawDown({ received: 980, lost: 20, jitterMs: 5 }), 1);      // 2 %
  assert.equal(rawDown({ received: 500, lost: 0, jitterMs: 120 }), 3);
  assert.equal(rawDown({ received: 500, lost: 0, jitterMs: 5, rttMs: 250 }), 2);
  assert.equal(rawDown({ received: 500, lost: 0, jitterMs: 5, froze: true }), 3);
  assert.equal(rawDown({ received: 500, lost: 100, jitterMs: 5, froze: true }), 4);
  assert.equal(rawDown({ received: 0, expecting: true, wasFlowing: true }), 5);
  assert.equal(rawDown({ received: 0, expecting: false, wasFlowing: true }), 6);  // nobody publishes any more
  assert.equal(rawDown({ received: 0, expecting: true, wasFlowing: false }), 6);  // not flowing yet
});

test('loss over a few packets counts against 50 (a silent microphone with DTX sends 2.5 a second)', () => {
  assert.equal(rawDown({ received: 4, lost: 1, jitterMs: 5 }), 1);        // 1 of 50, not 1 of 5
  assert.equal(rawUp({ sent: 5, lost: 1, rttMs: 30 }), 1);
  assert.equal(rawDown({ received: 10, lost: 10, jitterMs: 5 }), 4);      // 10 of 50 is still very bad
  assert.equal(rawDown({ received: 45, lost: 5, jitterMs: 5 }), 3);       // from 50 packets on, as before
});

test('hysteresis: two samples on the same side move it, one does not; the exceptions move at once', () => {
  assert.equal(nextBand(6, null, 2), 2);   // leaving 6 (unknown)
  assert.equal(nextBand(1, null, 2), 1);   // one worse sample
  assert.equal(nextBand(1, 2, 1), 1);
  assert.equal(nextBand(1, 2, 2), 2);      // both worse
  assert.equal(nextBand(2, 4, 3), 3);      // both worse: the better of the two
  assert.equal(nextBand(1, 3, 2), 2);
  assert.equal(nextBand(2, 1, 0), 1);      // both better: the worse of the two
  assert.equal(nextBand(2, 0, 3), 2);      // one each side
  assert.equal(nextBand(0, null, 2), 2);   // two steps worse
  assert.equal(nextBand(0, null, 4), 4);
  assert.equal(nextBand(4, null, 0), 4);   // better by much: still two samples
  assert.equal(nextBand(1, null, 5), 5);   // entering 5 (down)
  assert.equal(nextBand(5, null, 1), 1);   // leaving 5
  assert.equal(nextBand(2, null, 6), 6);   // nothing measured any more: at once
  assert.equal(nextBand(2, 5, 3), 2);      // only measured samples (0..4) pair up
  assert.equal(nextBand(2, 6, 1), 2);
});

test('local quality: the reported pair, and weak / recovered warned once each', () => {
  const q = new LocalQuality();
  const feed = (up, down) => { const r = q.feed(up, down); return [q.up, q.down, r.changed, r.warning]; };
  assert.deepEqual(feed(0, 6), [0, 6, true, null]);
  assert.deepEqual(feed(0, 1), [0, 1, true, null]);          // down leaves 6 at once
  assert.deepEqual(feed(1, 1), [0, 1, false, null]);
  assert.deepEqual(feed(3, 1), [3, 1, true, 'weak']);        // two steps worse: at once
  assert.deepEqual(feed(4, 1), [3, 1, false, null]);
  assert.deepEqual(feed(4, 1), [4, 1, true, null]);          // still weak: no second warning
  assert.deepEqual(feed(2, 1), [4, 1, false, null]);
  assert.deepEqual(feed(2, 1), [2, 1, true, null]);          // 2 is not recovered yet
  assert.deepEqual(feed(0, 0), [2, 1, false, null]);
  assert.deepEqual(feed(0, 0), [0, 0, true, 'recovered']);
  assert.deepEqual(feed(0, 0), [0, 0, false, null]);
  let r = q.lost();
  assert.deepEqual([q.up, q.down, r.changed, r.warning], [5, 5, true, null]);  // down is 0x00000103's
  assert.deepEqual(feed(0, 0), [0, 0, true, null]);          // leaving 5 at once
  q.reset();
  assert.deepEqual([q.up, q.down, q.weak], [6, 6, false]);
  r = q.feed(6, 6);
  assert.equal(r.changed, false);
  // Down and unknown are left out of the worse band: a bad downlink warns while the
  // uplink is down, and a good one recovers.
  feed(0, 0);
  assert.deepEqual(feed(5, 3), [5, 3, true, 'weak']);
  assert.deepEqual(feed(5, 0), [5, 3, false, null]);
  assert.deepEqual(feed(5, 0), [5, 0, true, 'recovered']);
});

test('remote quality: relayed pairs, (5, 5) while disconnected, and malformed values change nothing', () => {
  const r = new RemoteQuality();
  assert.deepEqual(r.relayed('ann', 0, 1), { up: 0, down: 1 });
  assert.equal(r.relayed('ann', 0, 1), null);
  for (const [up, down] of [[7, 1], [-1, 1], [1.5, 1], ['3', 1], [null, 1], [1, undefined]]) assert.equal(r.relayed('ann', up, down), null);
  assert.equal(r.relayed('', 1, 1), null);
  assert.equal(r.relayed(42, 1, 1), null);
  assert.deepEqual(r.disconnected('ann'), { up: 5, down: 5 });
  assert.equal(r.relayed('ann', 2, 2), null);                // kept, not shown while lost
  assert.deepEqual(r.connected('ann'), { up: 2, down: 2 });
  assert.equal(r.connected('ann'), null);
  assert.equal(r.connected('nobody'), null);
  r.left('ann');
  assert.deepEqual(r.relayed('ann', 2, 2), { up: 2, down: 2 });  // a new entry
});

const counters = (o = {}) => ({
  send: { bytes: 0, packets: 0, rttMs: null, lost: 0, reportRttMs: null, rttMeasurements: null, availableBps: null, targetBps: 0, ...(o.send || {}) },
  receive: { bytes: 0, packets: 0, lost: 0, repaired: 0, jitterMs: 0, fps: 0, width: 0, height: 0, rttMs: null, videoPackets: 0, framesDecoded: 0, freezes: 0, freezeSeconds: 0, ...(o.receive || {}) },
});

test('raw bands from counters: deltas, the report rtt first, freezes of 500 ms or more', () => {
  const prev = counters({ send: { packets: 1000, lost: 10, rttMeasurements: 4 }, receive: { packets: 2000, lost: 5, videoPackets: 1500, framesDecoded: 300 } });
  const cur = counters({
    send: { packets: 1200, lost: 30, reportRttMs: 120, rttMs: 20, rttMeasurements: 6, availableBps: 900000, targetBps: 1000000 },
    receive: { packets: 2400, lost: 5, jitterMs: 10, videoPackets: 1800, framesDecoded: 360, freezes: 0 },
  });
  let r = rawBands(prev, cur, {}, { expecting: true });
  assert.deepEqual([r.up, r.down], [3, 1]);   // up: 20 of 200 lost (10 %); down: rtt 120 ms from the reports
  assert.deepEqual(r.seen, { acked: true, flowing: true, decoding: true });
  // Two short freezes (0.3 s each) are not a freeze; one of 0.8 s is.
  const short = counters({ ...cur, receive: { ...cur.receive, freezes: 2, freezeSeconds: 0.6 } });
  assert.equal(rawBands(prev, short, {}, { expecting: true }).down, 1);
  const long = counters({ ...cur, receive: { ...cur.receive, freezes: 1, freezeSeconds: 0.8 } });
  assert.equal(rawBands(prev, long, {}, { expecting: true }).down, 3);
  // Video packets arrived and nothing decoded, after decoding: frozen.
  const stalled = counters({ ...cur, receive: { ...cur.receive, framesDecoded: 300 } });
  assert.equal(rawBands(prev, stalled, { decoding: true }, { expecting: true }).down, 3);
  assert.equal(rawBands(prev, stalled, { decoding: false }, { expecting: true }).down, 1);
  // Sending, reports stopped: up is down; nothing arrived while expected: down is down.
  const silent = counters({ send: { ...cur.send, rttMeasurements: 4 }, receive: { ...prev.receive } });
  r = rawBands(prev, silent, { acked: true, flowing: true }, { expecting: true });
  assert.deepEqual([r.up, r.down], [5, 5]);
  // ... and stay down while the silence lasts; media back: measured again.
  const stillSilent = counters({ send: { ...silent.send, packets: silent.send.packets + 200 }, receive: { ...silent.receive } });
  r = rawBands(silent, stillSilent, r.seen, { expecting: true });
  assert.deepEqual([r.up, r.down], [5, 5]);
  r = rawBands(prev, cur, r.seen, { expecting: true });
  assert.deepEqual([r.up, r.down], [3, 1]);
  // Nobody to receive from any more: not down, only the round trip is measured (120 ms).
  assert.equal(rawBands(silent, counters({ ...silent }), { flowing: true }, { expecting: false }).down, 1);
  // Nothing published, nothing received, no rtt: unknown both ways.
  r = rawBands(counters(), counters(), {}, { expecting: false });
  assert.deepEqual([r.up, r.down], [6, 6]);
});

test('retransmissions that arrived were lost on the network: down loss counts them', () => {
  // Chromium's packetsReceived includes the retransmissions; packetsLost is what they
  // did not repair.
  assert.equal(rawDown({ received: 420, lost: 30, jitterMs: 5 }), 2);                 // 6.7 % after repair
  assert.equal(rawDown({ received: 420, lost: 30, repaired: 150, jitterMs: 5 }), 4);  // 30 % on the network
  assert.equal(rawDown({ received: 490, repaired: 10, jitterMs: 5 }), 1);             // 2 %, all repaired
  assert.equal(rawDown({ received: 0, repaired: 3, expecting: true, wasFlowing: true }), 2);  // something came: not down
  const prev = counters({ receive: { packets: 1000, lost: 10, repaired: 40 } });
  const cur = counters({ receive: { packets: 1570, lost: 40, repaired: 190, jitterMs: 5 } });
  // 570 arrived of which 150 retransmissions: 420 first transmissions, 30 + 150 lost.
  const r = rawBands(prev, cur, { flowing: true }, { expecting: true });
  assert.equal(r.down, 4);
  assert.equal(r.seen.flowing, true);
});

// An engine in a call whose signalling is a scripted socket, with the clock mocked.
function inCall() {
  const { engine, ws } = scriptedCall({ channel: { resumeToken: 'r1', resumeGraceMs: 10000 }, users: [{ userId: 'ann', tracks: ['audio'] }], closes: true });
  const seen = { errors: [], warnings: [], quality: [], opened: 0 };
  engine.on('error', (e) => seen.errors.push(e.hex));
  engine.on('warning', (w) => seen.warnings.push(w.hex));
  engine.on('networkQuality', (q) => seen.quality.push(q));
  engine.open = async () => { seen.opened++; throw new ParleyError(ErrorCode.SIGNAL_REQUEST_ERROR, 'cannot reach ws://test'); };
  return { engine, seen, ws };
}
const settle = async () => { for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); };

test('engine: a local change is emitted and sent with reportStats, whose answer is never an error', async (t) => {
  const { engine, seen, ws } = inCall();
  engine.quality.feed(1, 2);
  const { qualityChanged } = await import('../sdk/network.js');
  qualityChanged(engine, { changed: true, warning: null });
  assert.deepEqual(seen.quality, [{ userId: '', up: 1, down: 2 }]);
  assert.deepEqual(ws.sent.map((m) => [m.type, m.up, m.down]), [['reportStats', 1, 2]]);
  ws.reply('reportStats', ErrorCode.UNKNOWN_MESSAGE_TYPE, 'unknown type');
  await settle();
  assert.deepEqual(seen.errors, []);
  qualityChanged(engine, { changed: true, warning: 'weak' });
  ws.reply('reportStats', ErrorCode.INVALID_FIELD, 'bad');
  await settle();
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(seen.warnings, ['0x00000101']);
  // Unanswered: its timeout is no error either.
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  qualityChanged(engine, { changed: true, warning: null });
  mock.timers.tick(engine.requestTimeoutMs);
  await settle();
  assert.deepEqual(seen.errors, []);
  qualityChanged(engine, { changed: false, warning: null });
  assert.equal(ws.sent.length, 3);  // nothing new: nothing sent
});

test('engine: remote pairs from networkQuality, (5, 5) on userNetwork disconnected until connected; strangers ignored', () => {
  const { engine, seen, ws } = inCall();
  ws.notify({ type: 'networkQuality', userId: 'ann', up: 2, down: 1, seq: 5 });
  ws.notify({ type: 'networkQuality', userId: 'stranger', up: 2, down: 1 });
  ws.notify({ type: 'networkQuality', userId: 'ann', up: 9, down: 1 });
  ws.notify({ type: 'userNetwork', userId: 'ann', state: 'disconnected', code: 0x104 });
  ws.notify({ type: 'networkQuality', userId: 'ann', up: 3, down: 3 });
  ws.notify({ type: 'userNetwork', userId: 'ann', state: 'connected', code: 0x106 });
  assert.deepEqual(seen.quality, [{ userId: 'ann', up: 2, down: 1 }, { userId: 'ann', up: 5, down: 5 }, { userId: 'ann', up: 3, down: 3 }]);
  ws.notify({ type: 'userNetwork', userId: 'ann', state: 'disconnected', code: 0x104 });
  ws.notify({ type: 'userOffline', userId: 'ann', reason: 'heartbeat-lost' });
  ws.notify({ type: 'userNetwork', userId: 'ann', state: 'connected', code: 0x106 });
  assert.equal(seen.quality.length, 4);  // gone: nothing after its offline
  // A user object carries the pair the server last had, and online: false means down.
  ws.notify({ type: 'userOnline', user: { userId: 'cy', tracks: [], online: true, networkQuality: { up: 2, down: 3 } } });
  ws.notify({ type: 'userOnline', user: { userId: 'di', tracks: [], online: false, networkQuality: { up: 1, down: 1 } } });
  ws.notify({ type: 'userOnline', user: { userId: 'ed', tracks: [], online: true, networkQuality: { up: 'x', down: 99 } } });
  assert.deepEqual(seen.quality.slice(4), [{ userId: 'cy', up: 2, down: 3 }, { userId: 'di', up: 5, down: 5 }]);
});

test('engine: after a resume, the snapshot\'s users give their pairs (relayed while the link was down)', async () => {
  const { engine, seen } = inCall();
  engine.remoteUsers.set('ben', { userId: 'ben', tracks: [] });
  engine.remoteQuality.disconnected('ben');
  engine.open = async () => { engine.signal = { close() {} }; };
  engine.request = async () => ({ users: [
    { userId: 'ann', tracks: ['audio'], online: true, networkQuality: { up: 1, down: 2 } },
    { userId: 'ben', tracks: [], online: true, networkQuality: { up: 3, down: 3 } },
  ] });
  await engine.resume(0);
  assert.deepEqual(seen.warnings, ['0x00000105']);
  assert.deepEqual(seen.quality, [{ userId: 'ann', up: 1, down: 2 }, { userId: 'ben', up: 3, down: 3 }]);
});

test('link: three unanswered heartbeat intervals report 0x0102020C, drop the link and reconnect', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 1e12 });
  t.after(() => mock.timers.reset());
  const { engine, seen, ws } = inCall();
  startHeartbeat(engine, 2000);
  mock.timers.tick(2000);
  ws.reply('ping', 0);  // answered: nothing happens
  mock.timers.tick(2000);
  await settle();
  assert.deepEqual(seen.errors, []);
  mock.timers.tick(5999);  // the second ping, 5999 ms unanswered (more pings meanwhile)
  await settle();
  assert.deepEqual(seen.errors, []);
  mock.timers.tick(1);
  await settle();
  assert.deepEqual(seen.errors, ['0x0102020C']);
  assert.equal(ws.closed, 1);
  assert.equal(engine.signal, null);
  assert.deepEqual(seen.warnings, ['0x00000103']);
  assert.deepEqual(seen.quality, [{ userId: '', up: 5, down: 5 }]);
  assert.equal(seen.opened, 1);  // the reconnection started
  clearInterval(engine.heartbeat);
  engine.channel = null;  // the scripted reconnection stops here
});
