// A browser subscriber stays in the channel while a browser publisher leaves and joins
// again, unpublishes and publishes again, and rebuilds its publish connection (one
// track dropped and added back): each time the subscriber is told of the tracks again
// (remoteTrackAvailable) and decodes new video and receives new audio. The server
// reuses the subscriber's retired sections for returning tracks with new SSRCs.
// (Chromium forgets the SRTP state of an SSRC that leaves the description, so unlike
// webrtcbin it also coped with the old server reusing SSRCs: this guards the browser
// side of the fix, sdk/tests/republish_test.cpp is the regression test.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchChromium } from './harness.mjs';

// In the page: an engine that joins, optionally publishes, and records events.
async function participant({ token, name, publish }) {
  const { createEngine } = await import('/sdk/parley.js');
  const engine = createEngine();
  window.engine = engine;
  window.events = [];
  for (const ev of ['remoteUserOnline', 'remoteUserOffline', 'remoteTrackAvailable', 'remoteTrackUnavailable', 'error']) {
    engine.on(ev, (p) => window.events.push({ ev, userId: p.userId, track: p.track, kind: p.kind, code: p.code }));
  }
  engine.on('remoteTrackAvailable', ({ stream }) => {
    const v = document.createElement('video');
    v.autoplay = true; v.muted = true; v.srcObject = stream;
    document.body.append(v);
  });
  window.token = token;
  window.userName = name;
  await engine.joinChannel(token, name);
  if (publish) {
    await engine.publishLocalAudioStream(true);
    await engine.publishLocalVideoStream(true);
  }
}

// Decoded video frames and received audio bytes, per SSRC (a returning track is a new
// stream; its old statistics may linger or vanish).
async function inbound() {
  const out = {};
  const pc = window.engine.subscribePc;
  if (!pc) return out;
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp') out[s.ssrc] = { kind: s.kind, frames: s.framesDecoded || 0, bytes: s.bytesReceived || 0 };
  });
  return out;
}

// How much more arrived in `after` than in `before`, over all streams.
function growth(before, after) {
  let frames = 0, audioBytes = 0;
  for (const [ssrc, s] of Object.entries(after)) {
    const b = before[ssrc] || { frames: 0, bytes: 0 };
    if (s.kind === 'video') frames += Math.max(0, s.frames - b.frames);
    else audioBytes += Math.max(0, s.bytes - b.bytes);
  }
  return { frames, audioBytes };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a browser subscriber receives a publisher again after it rejoins, republishes and rebuilds its connection',
  { timeout: 120000 }, async () => {
    const server = await startServer();
    const browser = await launchChromium();
    try {
      const app = await server.admin('POST', '/v1/admin/apps', { name: 'again' });
      const token = async (user) => (await server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
        { channelId: 'again', userId: user, ttlSeconds: 600 })).token;
      const bob = await browser.newPage();
      await bob.goto(`${server.url}/demo/`);
      await bob.evaluate(participant, { token: await token('bob'), name: 'bob', publish: false });
      const alice = await browser.newPage();
      await alice.goto(`${server.url}/demo/`);
      await alice.evaluate(participant, { token: await token('alice'), name: 'alice', publish: true });

      const available = async () => (await bob.evaluate(() => window.events))
        .filter((e) => e.ev === 'remoteTrackAvailable' && e.userId === 'alice').length;
      // Waits until bob has decoded `frames` more video frames and got more audio than
      // in `before` (and, with `announced`, was told of two more tracks).
      const receives = async (step, before, announced = 0) => {
        let g = { frames: 0, audioBytes: 0 }, told = 0;
        for (let i = 0; i < 150; i++) {
          g = growth(before.stats, await bob.evaluate(inbound));
          told = (await available()) - before.available;
          if (g.frames > 20 && g.audioBytes > 2000 && told >= announced) break;
          await sleep(100);
        }
        console.log(`# ${step}: ${JSON.stringify(g)}, tracks announced again: ${told}`);
        if (g.frames <= 20) console.log(`# bob events: ${JSON.stringify(await bob.evaluate(() => window.events))}`);
        assert.ok(g.frames > 20, `${step}: video frames decoded again (${g.frames})`);
        assert.ok(g.audioBytes > 2000, `${step}: audio received again (${g.audioBytes} bytes)`);
        assert.ok(told >= announced, `${step}: remoteTrackAvailable again (${told})`);
      };
      const snapshot = async () => ({ stats: await bob.evaluate(inbound), available: await available() });

      await receives('first session', { stats: {}, available: 0 }, 2);

      // 1. Alice leaves and joins again.
      await alice.evaluate(() => window.engine.leaveChannel());
      await sleep(500);
      let before = await snapshot();
      await alice.evaluate(async () => {
        await window.engine.joinChannel(window.token, window.userName);
        await window.engine.publishLocalAudioStream(true);
        await window.engine.publishLocalVideoStream(true);
      });
      await receives('after rejoin', before, 2);

      // 2. Alice unpublishes both tracks, then publishes them again.
      await alice.evaluate(async () => {
        await window.engine.publishLocalVideoStream(false);
        await window.engine.publishLocalAudioStream(false);
      });
      await sleep(500);
      before = await snapshot();
      await alice.evaluate(async () => {
        await window.engine.publishLocalAudioStream(true);
        await window.engine.publishLocalVideoStream(true);
      });
      await receives('after unpublish and publish', before, 2);

      // 3. Alice drops her audio (her camera moves to a new publish connection), then
      // adds it back (another new connection): video flows throughout, audio returns.
      await alice.evaluate(() => window.engine.publishLocalAudioStream(false));
      await sleep(500);
      before = await snapshot();
      await alice.evaluate(() => window.engine.publishLocalAudioStream(true));
      await receives('across rebuilt publish connections', before, 1);
      const errors = (await bob.evaluate(() => window.events)).filter((e) => e.ev === 'error');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.stop();
    }
  });
