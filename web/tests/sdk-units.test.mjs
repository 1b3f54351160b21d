// Unit tests of the browser SDK's parts that need no browser: the stats sample
// (stats.js), request/reply matching of the signalling connection (signal.js) over
// a scripted socket, and the engine's link (link.js) with its clock mocked. The
// network-quality rule is tested in quality-units.test.mjs. The real WebSocket and RTCPeerConnections are exercised by the
// Chromium tests (sdk.test.mjs and others).
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { deviceLoad, networkSample, selectedTransport } from '../sdk/stats.js';
import { SignalConnection } from '../sdk/signal.js';
import { ErrorCode } from '../sdk/errors.js';
import { TIMEOUT_CODE } from '../sdk/protocol.js';
import { createEngine, ParleyError } from '../sdk/parley.js';

const counters = (o = {}) => ({
  send: { bytes: 0, rttMs: null, ...(o.send || {}) },
  receive: { bytes: 0, packets: 0, lost: 0, jitterMs: 0, fps: 0, width: 0, height: 0, ...(o.receive || {}) },
});

test('network sample: deltas over the interval, unmeasured fields null', () => {
  const prev = counters({ send: { bytes: 1000 }, receive: { bytes: 5000, packets: 100, lost: 0 } });
  const cur = counters({ send: { bytes: 251000, rttMs: 40 }, receive: { bytes: 505000, packets: 190, lost: 10, jitterMs: 7, fps: 30, width: 640, height: 360 } });
  const s = networkSample(prev, cur, 2, { publishing: true, subscribing: true });
  assert.equal(s.lossRate, 0.1);          // 10 lost of 100 expected
  assert.equal(s.sendKbps, 1000);         // 250 kB in 2 s
  assert.equal(s.receiveKbps, 2000);
  assert.deepEqual([s.rttMs, s.jitterMs, s.fps, s.width, s.height], [40, 7, 30, 640, 360]);
  const idle = networkSample(counters(), counters(), 2, { publishing: false, subscribing: false });
  assert.deepEqual([idle.lossRate, idle.rttMs, idle.jitterMs, idle.fps, idle.width, idle.sendKbps, idle.receiveKbps],
    [null, null, null, null, null, null, null]);
});

test('the transport in use is the selected pair\'s local candidate: udp, tcp or a relay', () => {
  const report = (local) => new Map([
    ['T', { type: 'transport', selectedCandidatePairId: 'P' }],
    ['P', { type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R' }],
    ['L', { type: 'local-candidate', ...local }],
    ['X', { type: 'local-candidate', protocol: 'udp', candidateType: 'host' }],  // not selected
  ]);
  assert.equal(selectedTransport(report({ protocol: 'tcp', candidateType: 'host' })), 'tcp');
  assert.equal(selectedTransport(report({ protocol: 'udp', candidateType: 'host' })), 'udp');
  assert.equal(selectedTransport(report({ protocol: 'udp', candidateType: 'relay', relayProtocol: 'tls' })), 'relay/tls');
  assert.equal(selectedTransport(new Map([['T', { type: 'transport' }]])), null);  // no pair yet
  const s = networkSample(counters(), { ...counters(), transport: 'tcp' }, 2, { publishing: true, subscribing: false });
  assert.equal(s.transport, 'tcp');
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

// The engine's reconnection with its signalling seam (open, request) scripted and the
// clock mocked: each failed attempt waits its backoff, then tries again on a new socket.
function reconnecting(answers) {
  const engine = createEngine({ server: 'ws://test' });
  const seen = { errors: [], warnings: [], states: [], opened: 0, closed: 0, resumes: [] };
  engine.on('error', (e) => seen.errors.push(e));
  engine.on('warning', (w) => seen.warnings.push(w.code));
  engine.on('connectionStateChanged', ({ state }) => seen.states.push(state));
  engine.channel = { resumeToken: 'r1', resumeGraceMs: 10000 };
  engine.open = async () => {
    seen.opened++;
    engine.signal = { close: () => { seen.closed++; } };
  };
  engine.request = async (type, body) => {
    seen.resumes.push(body.resumeToken);
    const next = answers.shift();
    if (next instanceof ParleyError) throw next;
    return next;
  };
  return { engine, seen };
}
const settle = () => new Promise((r) => setImmediate(r));
async function advance(ms) {
  mock.timers.tick(ms);
  for (let i = 0; i < 5; i++) await settle();
}

test('reconnect: a resume timeout is reported once per reconnection, and a later attempt resumes', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1e12 });  // a wall clock: Date.now() is never 0
  t.after(() => mock.timers.reset());
  const timeout = () => new ParleyError(ErrorCode.TIMEOUT_RESUME, 'resume timed out');
  const { engine, seen } = reconnecting([timeout(), timeout(), { users: [] }]);
  engine.resume(0);
  await advance(0);
  assert.deepEqual(seen.errors.map((e) => e.hex), ['0x01020202']);
  assert.equal(seen.closed, 1);  // the silent socket is let go
  await advance(200);
  await advance(400);
  assert.equal(seen.opened, 3);
  assert.deepEqual(seen.errors.map((e) => e.code), [ErrorCode.TIMEOUT_RESUME]);
  assert.equal(seen.states.at(-1), 'connected');
  assert.deepEqual(seen.warnings, [ErrorCode.LOCAL_NETWORK_CONNECTED]);
  assert.ok(engine.channel);
  // The next reconnection reports its own timeout.
  const again = [timeout(), { users: [] }];
  engine.request = async () => { const next = again.shift(); if (next instanceof ParleyError) throw next; return next; };
  engine.resume(0);
  await advance(0);
  await advance(200);
  assert.deepEqual(seen.errors.map((e) => e.code), [ErrorCode.TIMEOUT_RESUME, ErrorCode.TIMEOUT_RESUME]);
});

test('reconnect: the snapshot of a resume decides who is there: users who left meanwhile go, new ones come', async () => {
  const user = (userId, tracks) => ({ userId, tracks, muted: [], online: true, networkQuality: { up: 1, down: 1 } });
  const { engine } = reconnecting([{ users: [user('bob', ['audio', 'camera']), user('dan', ['audio']), user('erin', [])] }]);
  engine.channel.userId = 'me';
  engine.autoSubscribe = true;  // as joinChannel sets it by default
  engine.remoteUsers.set('bob', user('bob', ['audio']));
  engine.remoteUsers.set('carol', user('carol', ['audio']));
  engine.remoteUsers.set('erin', user('erin', []));
  const events = [];
  engine.on('remoteUserOffline', (e) => events.push(`offline ${e.userId} ${e.reason}`));
  engine.on('remoteUserOnline', (e) => events.push(`online ${e.userId}`));
  const subscribed = [];
  engine.subscribeRemoteUser = async (id) => { subscribed.push(id); };
  await engine.resume(0);
  await settle();
  assert.deepEqual(events, ['offline carol left', 'online dan']);
  assert.deepEqual([...engine.remoteUsers.keys()].sort(), ['bob', 'dan', 'erin']);
  assert.deepEqual(engine.remoteUsers.get('bob').tracks, ['audio', 'camera']);
  // Auto-subscribe (the default): the newcomer who publishes, and bob's new camera.
  assert.deepEqual(subscribed.sort(), ['bob', 'dan']);
});

test('reconnect: the server had removed the session, or the grace is spent: 0x01050202 ends the call', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1e12 });  // a wall clock: Date.now() is never 0
  t.after(() => mock.timers.reset());
  const removed = reconnecting([new ParleyError(ErrorCode.SESSION_REMOVED, 'gone')]);
  removed.engine.resume(0);
  await advance(0);
  assert.deepEqual(removed.seen.errors.map((e) => e.code), [ErrorCode.MEDIA_CONNECTION_RECONNECT_FAILED]);
  assert.match(removed.seen.errors[0].message, /server had already removed the session/);
  assert.equal(removed.engine.channel, null);
  assert.equal(removed.seen.states.at(-1), 'failed');

  // Unreachable for longer than the grace: attempts at 200, 400, ... 2000 ms, then it gives up.
  const refused = () => new ParleyError(ErrorCode.SIGNAL_REQUEST_ERROR, 'cannot reach ws://test');
  const { engine, seen } = reconnecting(Array.from({ length: 20 }, refused));
  engine.resume(0);
  for (let waited = 0; waited <= 12000 && engine.channel; waited += 100) await advance(100);
  assert.equal(engine.channel, null);
  assert.deepEqual(seen.errors.map((e) => e.code), [ErrorCode.MEDIA_CONNECTION_RECONNECT_FAILED]);
  assert.match(seen.errors[0].message, /^reconnection failed: not resumed within 10000 ms after \d+ attempts$/);
  assert.ok(seen.resumes.length >= 6, `${seen.resumes.length} attempts`);
  await advance(5000);
  assert.equal(seen.errors.length, 1);  // nothing after the end
});

test('device load: two samples in a row with the CPU limiting the video say low, two without say restored', () => {
  const state = { limited: false, streak: 0 };
  assert.equal(deviceLoad(state, false), null);
  assert.equal(deviceLoad(state, true), null, 'one sample is not enough');
  assert.equal(deviceLoad(state, false), null, 'and the streak starts again');
  assert.equal(deviceLoad(state, true), null);
  assert.equal(deviceLoad(state, true), 'low');
  assert.equal(deviceLoad(state, true), null, 'said once');
  assert.equal(deviceLoad(state, false), null);
  assert.equal(deviceLoad(state, false), 'restored');
  assert.equal(deviceLoad(state, false), null);
});

test('a publish transport the network broke is published again; a refused one is only reported', async () => {
  const engine = createEngine({ server: 'ws://test' });
  const errors = [];
  const republished = [];
  engine.on('error', (e) => errors.push(e.hex));
  engine.channel = { resumeToken: 'r1' };
  engine.publish = { audio: true, video: true, screen: false };
  engine.renegotiatePublish = async (before) => { republished.push(before); };
  const failed = (reason, code) => engine.onNotification({ type: 'transportFailed', transport: 'publish', reason, code, message: reason });
  failed('dtls-timeout', 0x01050201);
  failed('consent-lost', 0x01050202);
  await settle();
  assert.deepEqual(errors, ['0x01050201', '0x01050202']);
  // The same tracks on a new connection: nothing gone, nothing added (updatePublish).
  assert.deepEqual(republished, [engine.publish, engine.publish]);
  failed('dtls-failed', 0x01050201);
  failed('internal-error', 0x01050201);
  await settle();
  assert.equal(errors.length, 4);
  assert.equal(republished.length, 2);
  // Nothing published, or the call over: nothing to publish again.
  engine.publish = { audio: false, video: false, screen: false };
  failed('ice-timeout', 0x01050201);
  engine.channel = null;
  engine.publish = { audio: true, video: false, screen: false };
  failed('ice-timeout', 0x01050201);
  await settle();
  assert.equal(republished.length, 2);
  assert.equal(errors.length, 5);
});

test('peer connections get the join answer\'s relays (only URLs of the server\'s forms) and relay only when asked', () => {
  const engine = createEngine({ server: 'ws://127.0.0.1:1', relayOnly: true });
  assert.deepEqual(engine.rtcConfiguration().iceServers, [], 'no join yet: no servers');
  engine.channel = {
    iceServers: [
      { urls: ['turn:10.0.0.1:3478?transport=udp', 'turns:turn.example.com:443?transport=tcp', 'turn:host?',
        'stun:10.0.0.1?transport=udp', 'http://evil', 'turn:a b', 7], username: '9:web', credential: 'c' },
      { urls: 'stun:[::1]:3478' },
      { urls: ['turn:bad host'] },
      null,
    ],
  };
  const config = engine.rtcConfiguration();
  assert.equal(config.iceTransportPolicy, 'relay');
  assert.equal(config.bundlePolicy, 'max-bundle');
  assert.deepEqual(config.iceServers, [
    { urls: ['turn:10.0.0.1:3478?transport=udp', 'turns:turn.example.com:443?transport=tcp'], username: '9:web', credential: 'c' },
    { urls: ['stun:[::1]:3478'] },
  ]);
  assert.equal(createEngine({ server: 'ws://127.0.0.1:1' }).rtcConfiguration().iceTransportPolicy, 'all');
});
