// Unit tests of what parley.js makes of the server's notifications about other members
// (./notifications.js) and of sendMessage (./messages.js), over a scripted socket: the
// events an application hears, the remote users' state, and hostile input ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../sdk/errors.js';
import { ParleyError } from '../sdk/parley.js';
import { scriptedCall } from './scripted-call.mjs';
import { volumeFromDbov, volumeFromLinear, smoothVolumes } from '../sdk/volume.js';

function inCall() {
  const { engine, ws } = scriptedCall({ users: [{ userId: 'ann', userName: 'Ann', tracks: ['audio', 'camera'], muted: [] }] });
  const heard = [];
  for (const ev of ['remoteTrackMuted', 'remoteUserUpdated', 'remoteRoleUpdated', 'remoteStreamResumed', 'message', 'remoteUserOnline',
    'authInfoWillExpire', 'authInfoExpired', 'volumeIndication']) {
    engine.on(ev, (p) => heard.push({ ev, ...p }));
  }
  return { engine, heard, ws };
}

test('trackMuted: the user\'s muted list follows it and remoteTrackMuted is heard', () => {
  const { engine, heard, ws } = inCall();
  ws.notify({ type: 'trackMuted', userId: 'ann', track: 'camera', muted: true, seq: 2 });
  assert.deepEqual(engine.remoteUsers.get('ann').muted, ['camera']);
  ws.notify({ type: 'trackMuted', userId: 'ann', track: 'camera', muted: false, seq: 3 });
  assert.deepEqual(engine.remoteUsers.get('ann').muted, []);
  assert.deepEqual(heard, [
    { ev: 'remoteTrackMuted', userId: 'ann', track: 'camera', muted: true },
    { ev: 'remoteTrackMuted', userId: 'ann', track: 'camera', muted: false },
  ]);
});

test('userUpdated, roleUpdated and streamResumed reach the application; the user object follows', () => {
  const { engine, heard, ws } = inCall();
  ws.notify({ type: 'userUpdated', user: { userId: 'ann', userName: 'Annie', tracks: ['audio'] }, seq: 4 });
  ws.notify({ type: 'roleUpdated', userId: 'ann', role: 'audience', seq: 5 });
  ws.notify({ type: 'streamResumed', userId: 'ann', seq: 6 });
  assert.equal(engine.remoteUsers.get('ann').userName, 'Annie');
  assert.equal(engine.remoteUsers.get('ann').role, 'audience');
  assert.deepEqual(heard.map((h) => h.ev), ['remoteUserUpdated', 'remoteRoleUpdated', 'remoteStreamResumed']);
  assert.equal(heard[0].user.userName, 'Annie');
  assert.equal(heard[1].role, 'audience');
});

test('message: to the channel (seq) or to this user alone (no seq); malformed ones are dropped', () => {
  const { heard, ws } = inCall();
  ws.notify({ type: 'message', fromUserId: 'ann', data: 'hi all', seq: 7 });
  ws.notify({ type: 'message', fromUserId: 'ann', data: 'just you', channelId: 'c' });
  ws.notify({ type: 'message', fromUserId: 'ann', data: { not: 'text' }, seq: 8 });
  ws.notify({ type: 'message', data: 'from nobody', seq: 9 });
  ws.notify({ type: 'userOnline', seq: 10 });            // no user object: nothing, no throw
  ws.notify({ type: 'userOnline', user: 'bob', seq: 11 });
  assert.deepEqual(heard, [
    { ev: 'message', fromUserId: 'ann', data: 'hi all', direct: false },
    { ev: 'message', fromUserId: 'ann', data: 'just you', direct: true },
  ]);
});

test('message from an unlisted member (a live channel\'s audience) is heard and makes it one to answer', () => {
  const { engine, heard, ws } = inCall();
  assert.equal(engine.heardFrom.has('viewer'), false);
  ws.notify({ type: 'message', fromUserId: 'viewer', data: 'hello hosts', seq: 7 });
  assert.deepEqual(heard, [{ ev: 'message', fromUserId: 'viewer', data: 'hello hosts', direct: false }]);
  assert.equal(engine.remoteUsers.has('viewer'), false);
  assert.equal(engine.heardFrom.has('viewer'), true);
});

test('sendMessage: checked here first, sent as sendMessage, the server\'s refusal rejects with its code', async () => {
  const { engine, ws } = inCall();
  const code = async (p) => { try { await p; return 0; } catch (e) { assert.ok(e instanceof ParleyError); return e.code; } };
  assert.equal(await code(engine.sendMessage('x'.repeat(4097))), ErrorCode.MESSAGE_TOO_LARGE);
  assert.equal(await code(engine.sendMessage('é'.repeat(2049))), ErrorCode.MESSAGE_TOO_LARGE, 'bytes of UTF-8, not characters');
  assert.equal(await code(engine.sendMessage(42)), ErrorCode.INVALID_FIELD);
  assert.equal(ws.sent.length, 0);
  const all = engine.sendMessage('hello');
  ws.reply('sendMessage', 0);
  assert.equal(await code(all), 0);
  const one = engine.sendMessage('psst', 'ann');
  ws.reply('sendMessage', ErrorCode.RATE_LIMITED, 'too fast');
  assert.equal(await code(one), ErrorCode.RATE_LIMITED);
  assert.deepEqual(ws.sent.map((m) => [m.type, m.data, m.toUserId]), [['sendMessage', 'hello', undefined], ['sendMessage', 'psst', 'ann']]);
  engine.channel = null;
  assert.equal(await code(engine.sendMessage('late')), ErrorCode.NOT_IN_CHANNEL);
});

test('token: will-expire and expired notices become events; refreshAuthInfo sends refreshToken', async () => {
  const { engine, heard, ws } = inCall();
  ws.notify({ type: 'tokenWillExpire', expiresAt: 1700000030 });
  ws.notify({ type: 'tokenExpired', expiresAt: 1700000030, removeInMs: 30000 });
  ws.notify({ type: 'tokenExpired', removeInMs: 'soon' });   // malformed: nothing
  assert.deepEqual(heard, [{ ev: 'authInfoWillExpire', expiresAt: 1700000030 }, { ev: 'authInfoExpired', removeInMs: 30000 }]);
  const refreshed = engine.refreshAuthInfo('a.b.c');
  const sent = ws.sent.at(-1);
  assert.deepEqual([sent.type, sent.token], ['refreshToken', 'a.b.c']);
  ws.onmessage({ data: JSON.stringify({ type: 'response', id: sent.id, code: 0, message: 'token accepted', data: { expiresAt: 1700003600 } }) });
  assert.deepEqual(await refreshed, { expiresAt: 1700003600 });
  const refused = engine.refreshAuthInfo('x.y.z');
  ws.reply('refreshToken', ErrorCode.TOKEN_INVALID, 'another user');
  await assert.rejects(refused, (e) => e.code === ErrorCode.TOKEN_INVALID);
  engine.channel = null;
  await assert.rejects(engine.refreshAuthInfo('a.b.c'), (e) => e.code === ErrorCode.NOT_IN_CHANNEL);
});

test('volume: the scale (0 at -60 dBov, 255 at 0 dBov), smoothing, and the engine\'s glue', async () => {
  assert.deepEqual([-127, -60, -30, 0, 6].map(volumeFromDbov), [0, 0, 127, 255, 255]);
  assert.equal(volumeFromLinear(0), 0);
  assert.equal(volumeFromLinear(1), 255);
  const prev = new Map();
  assert.deepEqual(smoothVolumes(prev, [{ userId: 'ann', volume: 200 }], 5), [{ userId: 'ann', volume: 200 }]);
  assert.deepEqual(smoothVolumes(prev, [{ userId: 'ann', volume: 0 }, { userId: 'ann', volume: 9 }], 5), [{ userId: 'ann', volume: 100 }]);
  const { engine, heard, ws } = inCall();
  await assert.rejects(engine.enableAudioVolumeIndication(50), (e) => e.code === ErrorCode.INVALID_FIELD);
  await assert.rejects(engine.enableAudioVolumeIndication(300, 10), (e) => e.code === ErrorCode.INVALID_FIELD);
  ws.notify({ type: 'volumeIndication', speakers: [{ userId: 'ann', volume: 180 }] });  // not asked: nothing
  const on = engine.enableAudioVolumeIndication(300, 0);
  assert.deepEqual(ws.sent.at(-1).intervalMs, 300);
  ws.reply('setVolumeIndication', 0);
  await on;
  ws.notify({ type: 'volumeIndication', speakers: [{ userId: 'ann', volume: 180 }, { userId: 'zed', volume: 9 }, { userId: 'ann', volume: 999 }, 'x'] });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(heard.filter((h) => h.ev === 'volumeIndication'), [{ ev: 'volumeIndication', speakers: [{ userId: 'ann', volume: 180 }] }]);
});

// Publisher economy: the server pauses the camera's layers nobody watches; parley.js
// turns those encodings off and on again (the first only while the camera is big enough
// for two layers: its own choice), and keeps the set for a later change of the encoder
// configuration.
test('publishLayers: the paused layers of the camera are not encoded until wanted again', async () => {
  const { engine, ws } = inCall();
  const track = { kind: 'video' };
  let params = { encodings: [{ rid: 'q', active: true }, { rid: 'h', active: true }, { rid: 'f', active: true }] };
  const sets = [];
  const sender = {
    track,
    getParameters: () => structuredClone(params),
    setParameters: async (p) => { sets.push(p.encodings.map((e) => e.active)); params = p; },
  };
  engine.publishPc = { getSenders: () => [sender] };
  engine.localStream = { getVideoTracks: () => [track] };
  const settle = () => new Promise((r) => setTimeout(r, 0));
  ws.notify({ type: 'publishLayers', track: 'camera', layers: [{ rid: 'q', active: false }, { rid: 'h', active: true }, { rid: 'f', active: false }] });
  await settle();
  assert.deepEqual(sets, [[false, true, false]]);
  assert.deepEqual([...engine.pausedLayers], ['q', 'f']);
  ws.notify({ type: 'publishLayers', track: 'camera', layers: [{ rid: 'q', active: false }, { rid: 'h', active: true }, { rid: 'f', active: false }] });
  await settle();
  assert.equal(sets.length, 1, 'nothing changed: no setParameters');
  ws.notify({ type: 'publishLayers', track: 'camera', layers: [{ rid: 'q', active: true }, { rid: 'h', active: true }, { rid: 'f', active: true }] });
  await settle();
  assert.deepEqual(sets[1], [true, true, true]);
  // A camera too small for two layers keeps its small one off, whatever the server says.
  engine.video = { width: 320, height: 240, fps: 15, bitrateKbps: 300 };
  ws.notify({ type: 'publishLayers', track: 'camera', layers: [{ rid: 'q', active: true }, { rid: 'h', active: true }, { rid: 'f', active: true }] });
  await settle();
  assert.deepEqual(sets[2], [false, true, true]);
  // Not the camera, or not a list: ignored.
  for (const odd of [{ track: 'screen', layers: [{ rid: 'f', active: false }] }, { track: 'camera', layers: 'f' }, { track: 'camera' }]) {
    ws.notify({ type: 'publishLayers', ...odd });
  }
  await settle();
  assert.equal(sets.length, 3);
  assert.deepEqual([...engine.pausedLayers], []);
});
