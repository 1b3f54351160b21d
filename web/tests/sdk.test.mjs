// parley.js end to end in Chromium through parleyd: participants publish fake camera +
// microphone and subscribe to each other; a late joiner gets video within 1 s and is
// told where the time went (startupPhase); an
// audience member cannot publish (0x0103030d) but can watch; closing a tab produces
// the unpublish and offline events for the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launchChromium, outDir } from './harness.mjs';

// In the page: create an engine, join, publish, and keep per-user decode statistics.
async function participant({ token, name, publish, role, profile }) {
  const { createEngine } = await import('/sdk/parley.js');
  const engine = createEngine();
  window.engine = engine;
  window.events = [];
  window.firstFrame = {};
  window.phases = [];
  engine.on('startupPhase', (p) => window.phases.push(p));
  for (const ev of ['remoteUserOnline', 'remoteUserOffline', 'remoteTrackAvailable', 'remoteTrackUnavailable', 'error', 'warning',
    'sessionRemoved', 'remoteStreamAborted', 'remoteStreamResumed']) {
    engine.on(ev, (p) => window.events.push({ ev, userId: p.userId, track: p.track, kind: p.kind, code: p.code, reason: p.reason, t: performance.now() }));
  }
  engine.on('remoteTrackAvailable', ({ userId, kind, stream }) => {
    const v = document.createElement('video');
    v.autoplay = true; v.muted = true; v.playsInline = true; v.srcObject = stream;
    document.body.append(v);
    if (kind === 'video') {
      const since = performance.now();
      const poll = setInterval(async () => {
        const stats = await engine.subscribePc.getStats();
        stats.forEach((s) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0 && !(userId in window.firstFrame)) {
            window.firstFrame[userId] = performance.now() - since;
          }
        });
        if (userId in window.firstFrame) clearInterval(poll);
      }, 25);
    }
  });
  const r = await engine.joinChannel(token, name, { role, profile });
  if (publish) {
    await engine.publishLocalAudioStream(true);
    await engine.publishLocalVideoStream(true);
  }
  return r.elapsedMs;
}

// Decoded frames and received bytes per subscribed track (keyed by mid and kind).
async function inbound() {
  const out = {};
  const pc = window.engine.subscribePc;
  if (!pc) return out;
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp') out[`${s.mid}/${s.kind}`] = { frames: s.framesDecoded || 0, bytes: s.bytesReceived };
  });
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('participants see and hear each other through parley.js', { timeout: 90000 }, async () => {
  const server = await startServer(['--resume-grace-ms', '1500']);
  const browser = await launchChromium();
  try {
    const app = await server.admin('POST', '/v1/admin/apps', { name: 'sdk' });
    const token = async (user, channel = 'sdkroom') => (await server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
      { channelId: channel, userId: user, ttlSeconds: 600 })).token;
    const open = async (user, opts = {}) => {
      const page = await browser.newPage();
      await page.goto(`${server.url}/demo/`);
      const elapsed = await page.evaluate(participant, { token: await token(user, opts.channel), name: user, publish: opts.publish !== false, role: opts.role, profile: opts.profile });
      return { page, elapsed };
    };
    const a = await open('alice');
    const b = await open('bob');
    console.log(`# join took ${a.elapsed} ms and ${b.elapsed} ms`);

    // Both directions: frames and audio keep growing for several seconds.
    await sleep(2500);
    const firstA = await a.page.evaluate(inbound), firstB = await b.page.evaluate(inbound);
    await sleep(3000);
    const secondA = await a.page.evaluate(inbound), secondB = await b.page.evaluate(inbound);
    console.log(`# alice receives ${JSON.stringify(secondA)}; bob receives ${JSON.stringify(secondB)}`);
    if (!Object.keys(secondA).length || !Object.keys(secondB).length) {
      console.log(`# alice events ${JSON.stringify(await a.page.evaluate(() => window.events))}`);
      console.log(`# bob events ${JSON.stringify(await b.page.evaluate(() => window.events))}`);
    }
    for (const [first, second] of [[firstA, secondA], [firstB, secondB]]) {
      const video = Object.keys(second).find((k) => k.endsWith('/video'));
      const audio = Object.keys(second).find((k) => k.endsWith('/audio'));
      assert.ok(video && audio, `expected audio and video, got ${JSON.stringify(second)}`);
      assert.ok(second[video].frames > (first[video]?.frames || 0) + 20, 'video frames keep being decoded');
      assert.ok(second[audio].bytes > (first[audio]?.bytes || 0), 'audio keeps arriving');
    }

    // A late joiner decodes both publishers' video within 1 s of their tracks arriving.
    const c = await open('carol', { publish: false });
    for (let i = 0; i < 40; i++) {
      const ff = await c.page.evaluate(() => window.firstFrame);
      if (Object.keys(ff).length >= 2) break;
      await sleep(100);
    }
    const firstFrame = await c.page.evaluate(() => window.firstFrame);
    if (Object.keys(firstFrame).length < 2) {
      console.log(`# carol events: ${JSON.stringify(await c.page.evaluate(() => window.events))}`);
      console.log(`# carol inbound: ${JSON.stringify(await c.page.evaluate(inbound))}`);
      console.log(`# carol pc: ${await c.page.evaluate(() => window.engine.subscribePc && window.engine.subscribePc.connectionState)}`);
    }
    console.log(`# late joiner's first decoded frame after track arrival (ms): ${JSON.stringify(firstFrame)}`);
    assert.deepEqual(Object.keys(firstFrame).sort(), ['alice', 'bob']);
    for (const ms of Object.values(firstFrame)) assert.ok(ms < 1000, `first frame after ${ms} ms`);
    await c.page.screenshot({ path: join(outDir, 'sdk-late-joiner.png') });
    // Where the late joiner's time went: each startup phase once, in the order each chain
    // of them must come in (the answer's request and the connection's progress overlap).
    const phases = await c.page.evaluate(() => window.phases);
    console.log(`# late joiner's startup phases (ms since joinChannel): ${phases.map((p) => `${p.phase} ${p.ms}`).join(', ')}`);
    const at = Object.fromEntries(phases.map((p) => [p.phase, p.ms]));
    assert.equal(phases.length, Object.keys(at).length, 'each phase once');
    for (const name of ['joined', 'subscribeOffered', 'subscribeAnswered', 'iceConnected', 'dtlsConnected', 'firstRtp', 'firstFrame'])
      assert.ok(name in at, `${name} missing from ${JSON.stringify(phases)}`);
    assert.ok(!('publishAnswered' in at), 'carol does not publish');
    for (const chain of [['joined', 'subscribeOffered', 'subscribeAnswered'], ['subscribeOffered', 'iceConnected', 'dtlsConnected', 'firstRtp', 'firstFrame']])
      for (let i = 1; i < chain.length; i++) assert.ok(at[chain[i - 1]] <= at[chain[i]], `${chain[i - 1]} before ${chain[i]}: ${JSON.stringify(phases)}`);

    // Alice closes her tab: the others are told her tracks and then she are gone.
    await a.page.close();
    let events = [];
    for (let i = 0; i < 50; i++) {
      events = await b.page.evaluate(() => window.events);
      if (events.some((e) => e.ev === 'remoteUserOffline' && e.userId === 'alice')) break;
      await sleep(100);
    }
    const gone = events.filter((e) => e.userId === 'alice' && (e.ev === 'remoteTrackUnavailable' || e.ev === 'remoteUserOffline'));
    console.log(`# bob saw: ${JSON.stringify(gone.map((e) => `${e.ev}:${e.track || e.reason}`))}`);
    assert.ok(gone.some((e) => e.ev === 'remoteTrackUnavailable' && e.track === 'camera'));
    assert.ok(gone.some((e) => e.ev === 'remoteTrackUnavailable' && e.track === 'audio'));
    const off = gone.find((e) => e.ev === 'remoteUserOffline');
    assert.ok(off && off.reason === 'connection-lost');
    assert.ok(gone.indexOf(off) === gone.length - 1, 'offline comes after the unpublish events');
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('an audience member cannot publish but can watch', { timeout: 60000 }, async () => {
  const server = await startServer();
  const browser = await launchChromium();
  try {
    const app = await server.admin('POST', '/v1/admin/apps', { name: 'live' });
    const token = async (user) => (await server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
      { channelId: 'live', userId: user, ttlSeconds: 600 })).token;
    const host = await browser.newPage();
    await host.goto(`${server.url}/demo/`);
    await host.evaluate(participant, { token: await token('host'), name: 'host', publish: true, role: 'broadcaster', profile: 'interactive-live' });
    const viewer = await browser.newPage();
    await viewer.goto(`${server.url}/demo/`);
    await viewer.evaluate(participant, { token: await token('viewer'), name: 'viewer', publish: false, role: 'audience', profile: 'interactive-live' });
    const refused = await viewer.evaluate(async () => {
      try { await window.engine.publishLocalVideoStream(true); return { code: 0 }; } catch (e) { return { code: e.code, hex: e.hex }; }
    });
    assert.equal(refused.hex, '0x0103030D');
    for (let i = 0; i < 50; i++) {
      if (Object.keys(await viewer.evaluate(() => window.firstFrame)).length) break;
      await sleep(100);
    }
    assert.deepEqual(Object.keys(await viewer.evaluate(() => window.firstFrame)), ['host']);
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('a publisher whose media stops gets 0x02010401 and the others are told', { timeout: 60000 }, async () => {
  const server = await startServer(['--media-abort-ms', '1000']);
  const browser = await launchChromium();
  try {
    const app = await server.admin('POST', '/v1/admin/apps', { name: 'abort' });
    const token = async (user) => (await server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
      { channelId: 'abort', userId: user, ttlSeconds: 600 })).token;
    const pub = await browser.newPage();
    await pub.goto(`${server.url}/demo/`);
    await pub.evaluate(participant, { token: await token('pub'), name: 'pub', publish: true });
    const watcher = await browser.newPage();
    await watcher.goto(`${server.url}/demo/`);
    await watcher.evaluate(participant, { token: await token('watcher'), name: 'watcher', publish: false });
    await sleep(1500);
    // Stop sending: every sender loses its track, so no RTP reaches the server.
    await pub.evaluate(async () => {
      window.savedTracks = window.engine.publishPc.getSenders().map((s) => s.track);
      for (const s of window.engine.publishPc.getSenders()) await s.replaceTrack(null);
    });
    const waitFor = async (page, pred) => {
      for (let i = 0; i < 60; i++) {
        const evs = await page.evaluate(() => window.events);
        const hit = evs.find(pred);
        if (hit) return hit;
        await sleep(100);
      }
      return null;
    };
    const own = await waitFor(pub, (e) => e.ev === 'error' && e.code === 0x02010401);
    assert.ok(own, 'the publisher is told its stream aborted');
    const seen = await waitFor(watcher, (e) => e.ev === 'remoteStreamAborted' && e.userId === 'pub');
    assert.ok(seen, 'the watcher is told');
    await pub.evaluate(async () => {
      const senders = window.engine.publishPc.getSenders();
      for (let i = 0; i < senders.length; i++) await senders[i].replaceTrack(window.savedTracks[i]);
    });
    assert.ok(await waitFor(watcher, (e) => e.ev === 'remoteStreamResumed' && e.userId === 'pub'), 'and told it resumed');
  } finally {
    await browser.close();
    await server.stop();
  }
});
