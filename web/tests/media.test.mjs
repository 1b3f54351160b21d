// The SFU's media features seen from Chromium through parley.js: camera and screen as
// separate streams, H.264 end to end, active-speaker notifications, per-track
// unsubscribe (the section goes inactive), NACK/RTX repair under simulated loss,
// transport-wide-cc feedback, and recovery from a failed subscribe connection
// (0x02010402).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launchChromium, outDir } from './harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// In the page: join with parley.js, publish what `publish` lists, record events.
async function participant({ token, name, publish, videoCodec }) {
  const { createEngine } = await import('/sdk/parley.js');
  const engine = createEngine({ videoCodec });
  window.engine = engine;
  window.events = [];
  for (const ev of ['remoteTrackAvailable', 'activeSpeaker', 'error', 'warning']) {
    engine.on(ev, (p) => window.events.push({ ev, userId: p.userId, track: p.track, code: p.code, levelDbov: p.levelDbov }));
  }
  engine.on('remoteTrackAvailable', ({ stream }) => {
    const v = document.createElement('video');
    v.autoplay = true; v.muted = true; v.srcObject = stream;
    document.body.append(v);
  });
  await engine.joinChannel(token, name);
  if (publish.includes('audio')) await engine.publishLocalAudioStream(true);
  if (publish.includes('camera')) await engine.publishLocalVideoStream(true);
  if (publish.includes('screen')) await engine.startScreenShare();
}

// Per inbound stream (by mid): kind, codec, decoded frames, size, NACKs sent, loss.
async function inbound() {
  const out = {};
  const pc = window.engine.subscribePc;
  if (!pc) return out;
  const stats = await pc.getStats();
  stats.forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    out[s.mid] = {
      kind: s.kind, codec: stats.get(s.codecId)?.mimeType, frames: s.framesDecoded || 0, width: s.frameWidth || 0,
      bytes: s.bytesReceived, packets: s.packetsReceived, lost: s.packetsLost, nacks: s.nackCount || 0,
      retransmitted: s.retransmittedPacketsReceived || 0,
    };
  });
  return out;
}

async function publisherStats() {
  const out = { fps: 0, bwe: 0, width: 0 };
  (await window.engine.publishPc.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'video') { out.fps = s.framesPerSecond || 0; out.width = s.frameWidth || 0; }
    if (s.type === 'candidate-pair' && s.nominated) out.bwe = s.availableOutgoingBitrate || 0;
  });
  return out;
}

async function setup(serverArgs = []) {
  const server = await startServer(serverArgs);
  const browser = await launchChromium();
  const app = await server.admin('POST', '/v1/admin/apps', { name: 'media' });
  const open = async (user, publish, opts = {}) => {
    const { token } = await server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
      { channelId: 'room', userId: user, ttlSeconds: 600 });
    const page = await browser.newPage();
    await page.goto(`${server.url}/demo/`);
    await page.evaluate(participant, { token, name: user, publish, videoCodec: opts.videoCodec });
    return page;
  };
  const user = async (id) => {
    const { channels } = await server.admin('GET', `/v1/admin/apps/${app.appId}/channels`);
    return channels[0]?.users.find((u) => u.userId === id);
  };
  return { server, browser, open, user, async close() { await browser.close(); await server.stop(); } };
}

// The SFU's drops of publishers' packets whose payloads it refused, summed over workers.
async function payloadDrops(server) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  // -1: /metrics does not list the reason.
  const out = { 'malformed-payload': -1, 'bad-payload-type': -1 };
  for (const line of text.split('\n')) {
    const m = line.match(/^parley_media_dropped_total\{.*reason="([a-z-]+)"\} (\d+)$/);
    if (m && m[1] in out) out[m[1]] = Math.max(out[m[1]], 0) + Number(m[2]);
  }
  return out;
}

async function until(fn, what, tries = 60) {
  for (let i = 0; i < tries; i++) {
    const v = await fn();
    if (v) return v;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('camera and screen arrive as separate streams, H.264 decodes, the speaker is announced', { timeout: 90000 }, async () => {
  const env = await setup();
  try {
    const alice = await env.open('alice', ['audio', 'camera', 'screen'], { videoCodec: 'H264' });
    const bob = await env.open('bob', ['camera']);
    // Bob sees alice's camera (640 wide) and screen (1280 wide) as two H.264 streams.
    const streams = await until(async () => {
      const s = Object.values(await bob.evaluate(inbound)).filter((x) => x.kind === 'video' && x.frames > 10);
      return s.length === 2 && s;
    }, 'two decoding video streams at bob');
    console.log(`# bob receives ${JSON.stringify(streams)}`);
    assert.deepEqual(streams.map((s) => s.width).sort((a, b) => a - b), [640, 1280]);
    for (const s of streams) assert.equal(s.codec, 'video/H264');
    const aliceIn = await until(async () => Object.values(await alice.evaluate(inbound)).find((x) => x.kind === 'video' && x.frames > 10),
      'bob\'s camera at alice');
    assert.equal(aliceIn.codec, 'video/VP8');
    // Chromium's Opus, VP8 and H.264 (single NAL units, STAP-A, FU-A) all pass the SFU's
    // payload checks: none of them was dropped as malformed or of a wrong payload type.
    assert.deepEqual(await payloadDrops(env.server), { 'malformed-payload': 0, 'bad-payload-type': 0 });
    const tracks = (await bob.evaluate(() => window.events)).filter((e) => e.ev === 'remoteTrackAvailable').map((e) => e.track).sort();
    assert.deepEqual(tracks, ['audio', 'camera', 'screen']);

    // Alice is the only one with a microphone: both are told she is speaking.
    for (const page of [alice, bob]) {
      const ev = await until(async () => (await page.evaluate(() => window.events)).find((e) => e.ev === 'activeSpeaker'), 'activeSpeaker');
      assert.equal(ev.userId, 'alice');
      console.log(`# activeSpeaker ${JSON.stringify(ev)}`);
    }

    // Bob drops alice's screen only: its section goes inactive, the camera keeps going.
    const mids = await bob.evaluate(inbound);
    const screenMid = Object.keys(mids).find((m) => mids[m].width === 1280);
    const cameraMid = Object.keys(mids).find((m) => mids[m].width === 640);
    await bob.evaluate(() => window.engine.request('unsubscribe', { userId: 'alice', tracks: ['screen'] }));
    await until(async () => bob.evaluate((mid) => window.engine.subscribePc.getTransceivers()
      .find((t) => t.mid === mid)?.currentDirection === 'inactive', screenMid), 'the screen section to go inactive');
    const before = await bob.evaluate(inbound);
    await sleep(1500);
    const after = await bob.evaluate(inbound);
    console.log(`# after unsubscribing the screen: ${JSON.stringify({ before, after })}`);
    assert.ok(after[cameraMid].frames > before[cameraMid].frames + 10, 'camera still decodes');
    // An inactive section has no inbound-rtp entry any more; if it still has one, its bytes stand still.
    assert.ok(!after[screenMid] || after[screenMid].bytes - (before[screenMid]?.bytes || 0) < 5000, 'screen no longer arrives');
    await bob.screenshot({ path: join(outDir, 'media-camera-and-screen.png') });
  } finally {
    await env.close();
  }
});

test('under 5% simulated loss NACKs are answered with RTX and video keeps decoding; TWCC feeds the publisher\'s estimator',
  { timeout: 90000 }, async () => {
    const env = await setup(['--media-loss-permille', '50']);
    try {
      const alice = await env.open('alice', ['audio', 'camera']);
      const bob = await env.open('bob', []);
      await until(async () => Object.values(await bob.evaluate(inbound)).some((x) => x.kind === 'video' && x.frames > 0), 'video at bob');
      const first = Object.values(await bob.evaluate(inbound)).find((x) => x.kind === 'video');
      await sleep(5000);
      const second = Object.values(await bob.evaluate(inbound)).find((x) => x.kind === 'video');
      const server = await env.user('bob');
      const pub = await env.user('alice');
      const sender = await alice.evaluate(publisherStats);
      console.log(`# bob video ${JSON.stringify(first)} -> ${JSON.stringify(second)}`);
      console.log(`# server: bob ${JSON.stringify(server.subscribeMedia)}; alice ${JSON.stringify(pub.media)}; alice sends ${JSON.stringify(sender)}`);
      assert.ok(second.frames > first.frames + 30, 'frames keep being decoded');
      assert.ok(second.nacks > 0, 'the browser NACKs lost packets');
      assert.ok(server.subscribeMedia.retransmitted > 0, 'the SFU retransmits from its buffer');
      assert.ok(second.retransmitted > 0, 'the browser receives the repairs on the RTX stream');
      assert.ok(pub.media.twccFeedbacks > 10, 'transport-cc feedback goes to the publisher');
      // What the SFU sends bob and its downstream estimate (bob's REMB) are in the admin
      // view; the estimate is 0 until the first REMB arrives, which may be after this sample.
      assert.ok(server.subscribeMedia.sentBps > 100000, `the SFU reports what it sends bob (${server.subscribeMedia.sentBps} bps)`);
      assert.equal(typeof server.subscribeMedia.downstreamBps, 'number');
      assert.equal(server.subscribeMedia.videoPaused, false);
      // Chromium starts its estimate at 300 kbps and lowers it while feedback is missing or
      // rejected; accepted feedback on an idle loopback link lets it rise.
      assert.ok(sender.bwe > 300000, `the publisher's bandwidth estimate rises (${sender.bwe} bps)`);
    } finally {
      await env.close();
    }
  });

test('a subscribe connection that dies is reported as 0x02010402 and rebuilt', { timeout: 90000 }, async () => {
  const env = await setup(['--media-consent-timeout-ms', '1500']);
  try {
    await env.open('alice', ['audio', 'camera']);
    const bob = await env.open('bob', []);
    await until(async () => Object.values(await bob.evaluate(inbound)).some((x) => x.kind === 'video' && x.frames > 0), 'video at bob');
    // Bob's browser drops its subscribe connection behind the SDK's back (DTLS close_notify,
    // then silence): the server reports its transport to bob as failed.
    await bob.evaluate(() => { window.oldPc = window.engine.subscribePc; window.oldPc.close(); });
    const err = await until(async () => (await bob.evaluate(() => window.events)).find((e) => e.ev === 'error'), 'an error at bob');
    assert.equal(err.code, 0x02010402);
    // parley.js subscribes again on a new connection and video comes back.
    await until(async () => bob.evaluate(() => window.engine.subscribePc && window.engine.subscribePc !== window.oldPc), 'a new subscribe connection');
    const back = await until(async () => Object.values(await bob.evaluate(inbound)).find((x) => x.kind === 'video' && x.frames > 10), 'video again');
    console.log(`# after the rebuild: ${JSON.stringify(back)}`);
  } finally {
    await env.close();
  }
});
