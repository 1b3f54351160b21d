// Browsers through the network lab (docs/network-lab.md): Chromium runs in the lab's
// client namespace, so its signalling and media cross parley-netem's emulated link to
// parleyd. A browser and a native client, and two browsers, keep receiving each other
// through 10 % loss both ways; a browser measures its own network quality, resumes by
// itself after a 5 s cut, and gives up a 35 s cut while it lasts. Assertions are about
// what arrives and in which order, never timings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { outDir, parleyCliPath, runJsonLines } from './harness.mjs';
import { startLab } from './lab.mjs';
import { browserParticipant, hear, inbound } from './participants.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// `parley join --json` inside the lab's client namespace; resolves with status and events.
function nativeInLab(lab, args) {
  const cli = parleyCliPath();
  if (!cli) throw new Error('parley CLI not built; set PARLEY_CLI');
  return runJsonLines('nsenter', lab.joinArgs([cli, 'join', '--json', ...args]));
}

async function withLab(fn) {
  const lab = await startLab();
  const browser = await lab.launchChromium();
  try {
    const app = await lab.server.admin('POST', '/v1/admin/apps', { name: 'lab' });
    const token = async (channelId, userId) => (await lab.server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
      { channelId, userId, ttlSeconds: 600 })).token;
    await fn({ lab, browser, token, app });
  } finally {
    await browser.close();
    await lab.stop();
  }
}

test('through 10 % loss both ways, a browser and a native client keep seeing and hearing each other', { timeout: 120000 }, async () => {
  await withLab(async ({ lab, browser, token, app }) => {
    const page = await browser.newPage();
    await page.goto(`${lab.labUrl}/demo/`);
    await page.evaluate(browserParticipant, { token: await token('lossy', 'web') });
    const native = nativeInLab(lab, ['--server', lab.labUrl, '--token', await token('lossy', 'native'),
      '--duration', '24', '--width', '320', '--height', '240', '--fps', '15']);
    // The loss starts once the call is set up both ways: the browser decodes the native
    // video and the server sends the native client media (a lost DTLS packet waits a
    // second or more for its retransmission; this is about media, not setup, and on a
    // busy machine setup takes longer than any fixed wait).
    const flowing = async () => {
      const got = await page.evaluate(inbound);
      const channels = await lab.server.admin('GET', `/v1/admin/apps/${app.appId}/channels`);
      const user = channels.channels.find((c) => c.channelId === 'lossy')?.users.find((u) => u.userId === 'native');
      return got.video?.frames > 0 && user?.subscribeMedia?.state === 'connected' && user.subscribeMedia.rtpPackets > 100;
    };
    for (let i = 0; i < 100 && !(await flowing()); i++) await sleep(200);
    assert.ok(await flowing(), 'the call is set up both ways before the loss starts');
    assert.equal(lab.ctl('profile lossy-10'), 'ok\n');
    await sleep(7000);
    const first = await page.evaluate(inbound);
    await sleep(2000);
    const second = await page.evaluate(inbound);
    await page.screenshot({ path: join(outDir, 'lab-browser-native.png') });
    const result = await native;
    const stats = result.events.filter((e) => e.event === 'stats').pop();
    const link = lab.stats();
    console.log(`# native received ${JSON.stringify(stats?.received)}; browser received ${JSON.stringify(second)}; link ${JSON.stringify(link)}`);
    assert.equal(result.status, 0, result.err);
    assert.ok(stats.received.web.videoFrames > 15, 'native decodes the browser\'s video through the loss');
    assert.ok(stats.received.web.audioMs > 1000, 'native decodes the browser\'s audio through the loss');
    assert.ok(second.video && second.video.frames > first.video.frames, 'the browser keeps decoding the native video');
    assert.ok(second.audio && second.audio.bytes > first.audio.bytes, 'the browser keeps receiving native audio');
    assert.ok(link.uplink.lostRandom > 20 && link.downlink.lostRandom > 20, 'the link lost packets both ways');
  });
});

// A demo page in the lab for each of `users`, in which `join(page, user)` has run.
async function labPages(lab, browser, users, join) {
  const pages = [];
  for (const user of users) {
    const page = await browser.newPage();
    await page.goto(`${lab.labUrl}/demo/`);
    await join(page, user);
    pages.push(page);
  }
  return pages;
}

test('through 10 % loss both ways, two browsers keep decoding each other', { timeout: 120000 }, async () => {
  await withLab(async ({ lab, browser, token }) => {
    const pages = await labPages(lab, browser, ['ann', 'ben'],
      async (page, user) => page.evaluate(browserParticipant, { token: await token('browsers', user) }));
    await sleep(2000);
    assert.equal(lab.ctl('profile lossy-10'), 'ok\n');
    await sleep(5000);
    // A window of several seconds: with two browsers on two cores a lost keyframe can
    // hold one page for a second or two before the SFU's next keyframe arrives.
    const first = await Promise.all(pages.map((p) => p.evaluate(inbound)));
    await sleep(6000);
    const second = await Promise.all(pages.map((p) => p.evaluate(inbound)));
    console.log(`# browsers received ${JSON.stringify(first)} then ${JSON.stringify(second)}; link ${JSON.stringify(lab.stats())}`);
    for (let i = 0; i < 2; i++) {
      assert.ok(second[i].video && second[i].video.frames > first[i].video.frames + 10, `page ${i} keeps decoding video`);
      assert.ok(second[i].audio && second[i].audio.bytes > first[i].audio.bytes, `page ${i} keeps receiving audio`);
    }
    assert.ok(lab.stats().downlink.lostRandom > 20, 'the link lost packets');
    // Each browser's own quality saw the loss: the server's reports of ~10 % lost are 2 or 3.
    for (const page of pages) {
      const own = (await page.evaluate(() => window.heard)).filter((h) => h.ev === 'networkQuality' && h.userId === '');
      console.log(`# local quality through the loss: ${own.map((q) => `${q.up}/${q.down}`).join(' ')}`);
      assert.ok(own.some((q) => q.up >= 2 && q.up <= 4), 'the uplink quality shows the loss');
    }
  });
});

const codes = (heard) => heard.filter((h) => h.hex).map((h) => h.hex);
const local = (heard) => heard.filter((h) => h.ev === 'networkQuality' && h.userId === '');

// One browser publishing alone; resolves once it reported its own quality, which a
// server that does not know reportStats yet (0x0F010002) must not turn into an error.
async function measuredBrowser(lab, browser, token, channel) {
  const page = await browser.newPage();
  await page.goto(`${lab.labUrl}/demo/`);
  await page.evaluate(browserParticipant, { token: await token(channel, 'web') });
  const heard = await hear(page, (h) => local(h).some((q) => q.up >= 0 && q.up <= 4), 20000);
  assert.ok(local(heard).some((q) => q.up >= 0 && q.up <= 4), `the browser measured its uplink: ${JSON.stringify(heard)}`);
  assert.deepEqual(heard.filter((h) => h.ev === 'error'), [], 'no error before the cut');
  return page;
}

test('a 35 s cut: unanswered heartbeats drop the link (0x0102020C), and the reconnection gives up (0x01050202) while it is still cut', { timeout: 120000 }, async () => {
  await withLab(async ({ lab, browser, token }) => {
    const page = await measuredBrowser(lab, browser, token, 'cut35');
    assert.equal(lab.ctl('outage 35000'), 'ok\n');
    const heard = await hear(page, (h) => codes(h).includes('0x01050202'), 34000);
    const stillCut = lab.stats().outage;
    console.log(`# heard ${JSON.stringify(heard.filter((h) => h.hex || h.up === 5))}; still cut: ${stillCut}`);
    const order = codes(heard).filter((c) => ['0x0102020C', '0x00000103', '0x00000105', '0x01050202'].includes(c));
    assert.deepEqual(order, ['0x0102020C', '0x00000103', '0x01050202']);
    assert.equal(stillCut, true, 'the browser gave up while the link was cut');
    assert.deepEqual(local(heard).at(-1), { ev: 'networkQuality', userId: '', up: 5, down: 5 }, 'down while the link is lost');
    assert.equal(await page.evaluate(() => window.engine.isInCall()), false);
  });
});

// After a cut: resumed (0x00000105, if the link was dropped at all) and measuring again.
const backAfterCut = (h) => {
  const dropped = h.findIndex((x) => x.hex === '0x00000103');
  const resumed = dropped < 0 ? 0 : h.findIndex((x, i) => i > dropped && x.hex === '0x00000105');
  const down = h.findIndex((x) => x.ev === 'networkQuality' && x.userId === '' && x.up === 5);
  return resumed >= 0 && down >= 0 && h.slice(Math.max(down, resumed)).some((x) => x.ev === 'networkQuality' && x.userId === '' && x.up < 5);
};

// A 5 s cut may or may not outlast the heartbeat (TCP delivers the pings sent during it
// a moment after it heals, and Chromium's link has survived it): either way the call goes
// on, a dropped link is resumed, and the quality the browser measures goes to 5 (down) and back.
test('a 5 s cut: the browser stays in the call, resumes a dropped link by itself, and its uplink quality goes down and back', { timeout: 120000 }, async () => {
  await withLab(async ({ lab, browser, token }) => {
    const page = await measuredBrowser(lab, browser, token, 'cut5');
    assert.equal(lab.ctl('outage 5000'), 'ok\n');
    const heard = await hear(page, backAfterCut, 40000);
    console.log(`# heard ${JSON.stringify(heard)}`);
    const order = codes(heard).filter((c) => ['0x00000103', '0x00000105', '0x01050202'].includes(c));
    assert.ok(order.length === 0 || order.join() === '0x00000103,0x00000105', order.join());
    assert.ok(backAfterCut(heard), 'the local uplink went to 5 (down) during the cut and back after it');
    assert.equal(await page.evaluate(() => window.engine.isInCall()), true);
  });
});

// Longer than three heartbeat intervals (6 s) from any ping sent during it, shorter than
// the budget: the link is dropped while cut and resumed once it heals.
test('an 8 s cut: unanswered heartbeats drop the link (0x0102020C, 0x00000103) and the browser resumes it (0x00000105)', { timeout: 120000 }, async () => {
  await withLab(async ({ lab, browser, token }) => {
    const page = await measuredBrowser(lab, browser, token, 'cut8');
    assert.equal(lab.ctl('outage 8000'), 'ok\n');
    const heard = await hear(page, (h) => codes(h).includes('0x00000105') && backAfterCut(h), 40000);
    console.log(`# heard ${JSON.stringify(heard)}`);
    const order = codes(heard).filter((c) => ['0x0102020C', '0x00000103', '0x00000105', '0x01050202'].includes(c));
    assert.deepEqual(order, ['0x0102020C', '0x00000103', '0x00000105']);
    assert.ok(local(heard).some((q) => q.up === 5 && q.down === 5), 'down (5, 5) while the link was lost');
    assert.ok(backAfterCut(heard), 'measuring again after the resume');
    assert.equal(await page.evaluate(() => window.engine.isInCall()), true);
  });
});

// In a page: joins `channel` with data messages on (publishing nothing) and records what
// arrives, with its one-way delay (the pages share the machine's clock).
async function dataMemberInLab({ token, channel }) {
  const { createEngine } = await import('/sdk/parley.js');
  const engine = createEngine({ dataMessages: true });
  window.engine = engine;
  window.got = [];
  engine.on('dataMessage', ({ userId, data, reliable }) => {
    const [seq, sentAt] = String(data).split('@');
    window.got.push({ userId, reliable, seq: Number(seq), delayMs: Date.now() - Number(sentAt) });
  });
  await engine.joinChannel(token, channel);
  for (let i = 0; i < 100 && engine.data.state !== 'open'; i++) await new Promise((r) => setTimeout(r, 100));
  return engine.data.state;
}

// Sends `n` numbered messages at 100 a second (under parley.js's 256 a second).
async function sendNumbered({ n, reliable }) {
  for (let i = 0; i < n; i++) {
    window.engine.sendDataMessage(`${i}@${Date.now()}`, { reliable, ordered: reliable });
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 100));
  }
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

test('through 10 % loss both ways, reliable data messages all arrive in order and unreliable ones are not repaired', { timeout: 120000 }, async () => {
  await withLab(async ({ lab, browser, token }) => {
    const [ann, ben] = await labPages(lab, browser, ['ann', 'ben'], async (page, user) =>
      assert.equal(await page.evaluate(dataMemberInLab, { token: await token('data', user), channel: 'data' }), 'open'));
    assert.equal(lab.ctl('profile lossy-10'), 'ok\n');
    // Each message crosses the lossy link twice (ben up to the SFU, down to ann).
    await ben.evaluate(sendNumbered, { n: 300, reliable: true });
    let got = [];
    for (const end = Date.now() + 30000; Date.now() < end && got.length < 300; await sleep(200)) {
      got = await ann.evaluate(() => window.got.filter((g) => g.reliable));
    }
    assert.deepEqual(got.map((g) => g.seq), Array.from({ length: 300 }, (_, i) => i), 'all 300, in the order sent');
    const delays = got.map((g) => g.delayMs);
    const lostBefore = lab.stats().downlink.lostRandom + lab.stats().uplink.lostRandom;
    await ben.evaluate(sendNumbered, { n: 300, reliable: false });
    await sleep(3000);
    const loose = await ann.evaluate(() => window.got.filter((g) => !g.reliable).map((g) => g.seq));
    const link = lab.stats();
    console.log(`# data through lossy-10 both ways: reliable ordered 300/300 in order, one-way p50 ${percentile(delays, 50)} ms, ` +
      `p99 ${percentile(delays, 99)} ms, max ${Math.max(...delays)} ms; unreliable ${loose.length}/300 arrived; ` +
      `link lost ${link.uplink.lostRandom} up, ${link.downlink.lostRandom} down`);
    assert.ok(lostBefore > 20, 'the link lost packets while the reliable ones crossed it');
    assert.equal(new Set(loose).size, loose.length, 'no unreliable message twice');
    // About 19 % of them cross both losses: some never arrive, and most do.
    assert.ok(loose.length < 300 && loose.length > 150, `unreliable messages are not retransmitted: ${loose.length}/300`);
  });
});
