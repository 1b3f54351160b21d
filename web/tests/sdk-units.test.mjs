// Unit tests of the browser SDK's parts that need no browser: the network-quality rules
// (stats.js) and request/reply matching of the signalling connection (signal.js) over
// a scripted socket. The real WebSocket and RTCPeerConnections are exercised by the
// Chromium tests (sdk.test.mjs and others).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { qualityGrade, networkSample, qualityChange } from '../sdk/stats.js';
import { SignalConnection } from '../sdk/signal.js';
import { ErrorCode } from '../sdk/errors.js';
import { TIMEOUT_CODE } from '../sdk/protocol.js';

test('quality grade: loss and round trip, each threshold exclusive', () => {
  assert.equal(qualityGrade(0, 0), 1);
  assert.equal(qualityGrade(0.01, 100), 1);
  assert.equal(qualityGrade(0.011, 0), 2);
  assert.equal(qualityGrade(0, 101), 2);
  assert.equal(qualityGrade(0.06, 0), 3);
  assert.equal(qualityGrade(0, 401), 4);
  assert.equal(qualityGrade(0.11, 0), 4);
  assert.equal(qualityGrade(0.21, 0), 5);
  assert.equal(qualityGrade(0, 801), 5);
});

const counters = (o = {}) => ({
  send: { bytes: 0, rttMs: null, ...(o.send || {}) },
  receive: { bytes: 0, packets: 0, lost: 0, jitterMs: 0, fps: 0, width: 0, height: 0, ...(o.receive || {}) },
});

test('network sample: deltas over the interval, unmeasured fields null', () => {
  const prev = counters({ send: { bytes: 1000 }, receive: { bytes: 5000, packets: 100, lost: 0 } });
  const cur = counters({ send: { bytes: 251000, rttMs: 40 }, receive: { bytes: 505000, packets: 190, lost: 10, jitterMs: 7, fps: 30, width: 640, height: 360 } });
  const s = networkSample(prev, cur, 2, { publishing: true, subscribing: true });
  assert.equal(s.lossRate, 0.1);          // 10 lost of 100 expected
  assert.equal(s.quality, 3);             // 10 % loss: not above 0.1, above 0.05
  assert.equal(s.sendKbps, 1000);         // 250 kB in 2 s
  assert.equal(s.receiveKbps, 2000);
  assert.deepEqual([s.rttMs, s.jitterMs, s.fps, s.width, s.height], [40, 7, 30, 640, 360]);
  const idle = networkSample(counters(), counters(), 2, { publishing: false, subscribing: false });
  assert.deepEqual([idle.lossRate, idle.rttMs, idle.jitterMs, idle.fps, idle.width, idle.sendKbps, idle.receiveKbps],
    [null, null, null, null, null, null, null]);
  assert.equal(idle.quality, 1);
});

test('quality change: warns once on the way down to 4 and once on the way back', () => {
  assert.equal(qualityChange(null, 5), null);
  assert.equal(qualityChange(3, 4), 'weak');
  assert.equal(qualityChange(4, 5), null);
  assert.equal(qualityChange(5, 3), 'recovered');
  assert.equal(qualityChange(2, 3), null);
});

// A socket that records what is sent and lets the test deliver frames and the close.
class ScriptedSocket {
  constructor() { this.readyState = 1; this.sent = []; }
  send(text) { this.sent.push(JSON.parse(text)); }
  close() { this.readyState = 3; this.onclose?.(); }
  deliver(obj) { this.onmessage?.({ data: typeof obj === 'string' ? obj : JSON.stringify(obj) }); }
}
globalThis.WebSocket ??= { OPEN: 1 };

function connection() {
  const ws = new ScriptedSocket();
  const seen = { notifications: [], closed: 0 };
  const c = new SignalConnection(ws, { onNotification: (m) => seen.notifications.push(m), onClose: () => { seen.closed++; } });
  return { ws, c, seen };
}

test('signal: replies are matched by id, errors carry code and detail, notifications pass through', async () => {
  const { ws, c, seen } = connection();
  const a = c.request('join', { token: 't' }, 10000);
  const b = c.request('ping', {}, 10000);
  assert.deepEqual(ws.sent.map((m) => [m.type, m.id]), [['join', 1], ['ping', 2]]);
  assert.equal(ws.sent[0].token, 't');
  ws.deliver({ type: 'response', id: 2, code: 0 });
  ws.deliver('not json');
  ws.deliver({ type: 'userOnline', user: { userId: 'u' } });
  ws.deliver({ type: 'response', id: 1, code: ErrorCode.CHANNEL_OVERDUE, message: 'expired', data: { detail: ErrorCode.TOKEN_EXPIRED } });
  assert.deepEqual(await b, {});
  await assert.rejects(a, (e) => e.code === (ErrorCode.CHANNEL_OVERDUE) && e.detail === ErrorCode.TOKEN_EXPIRED && e.message === 'expired');
  assert.deepEqual(seen.notifications.map((m) => m.type), ['userOnline']);
  ws.deliver({ type: 'response', id: 1, code: 0 });  // a late duplicate is ignored
});

test('signal: a request without a reply fails with its type\'s timeout code', async () => {
  const { c } = connection();
  await assert.rejects(c.request('publish', {}, 20), (e) => e.code === TIMEOUT_CODE.publish);
  await assert.rejects(c.request('noSuchRequest', {}, 20), (e) => e.code === ErrorCode.SIGNAL_REQUEST_ERROR);
});

test('signal: closing rejects what is pending, then reports the close once', async () => {
  const { ws, c, seen } = connection();
  const p = c.request('leave', {}, 10000);
  let closedBeforeReject = null;
  p.catch(() => { closedBeforeReject = seen.closed; });
  ws.close();
  await assert.rejects(p, (e) => e.code === ErrorCode.SIGNAL_REQUEST_ERROR && /closed/.test(e.message));
  assert.equal(seen.closed, 1);
  assert.equal(closedBeforeReject, 1);  // the engine's onClose ran synchronously with the close
  await assert.rejects(c.request('ping', {}, 10000), (e) => e.code === ErrorCode.SIGNAL_REQUEST_ERROR);
});

test('join credentials: a bare token, an access token in AuthInfo, a classic AuthInfo checked locally', async () => {
  const { joinCredentials } = await import('../sdk/credentials.js');
  assert.deepEqual(joinCredentials('a.b.c'), { token: 'a.b.c' });
  assert.deepEqual(joinCredentials({ token: 'a.b.c', channelId: 'room' }).auth,
    { appId: '', channelId: 'room', userId: '', nonce: '', timestamp: 0, token: 'a.b.c' });
  const classic = { appId: 'app', channelId: 'room', userId: 'u', timestamp: 1900000000, token: 'abc' };
  assert.deepEqual(joinCredentials(classic).auth, { ...classic, nonce: '' });
  for (const missing of ['appId', 'channelId', 'userId', 'token', 'timestamp']) {
    assert.throws(() => joinCredentials({ ...classic, [missing]: missing === 'timestamp' ? 0 : '' }),
      (e) => e.code === ErrorCode.INVALID_AUTH_INFO, missing);
  }
});
