// Browsers through the network lab (docs/network-lab.md): Chromium runs in the lab's
// client namespace, so its signalling and media cross parley-netem's emulated link to
// parleyd. A browser and a native client, and two browsers, keep receiving each other
// through 10 % loss both ways. Assertions are about what arrives, never timings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { outDir, parleyCliPath, runJsonLines } from './harness.mjs';
import { startLab } from './lab.mjs';
import { browserParticipant, inbound } from './participants.mjs';

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
    await fn({ lab, browser, token });
  } finally {
    await browser.close();
    await lab.stop();
  }
}

test('through 10 % loss both ways, a browser and a native client keep seeing and hearing each other', { timeout: 120000 }, async () => {
  await withLab(async ({ lab, browser, token }) => {
    const page = await browser.newPage();
    await page.goto(`${lab.labUrl}/demo/`);
    await page.evaluate(browserParticipant, { token: await token('lossy', 'web') });
    const native = nativeInLab(lab, ['--server', lab.labUrl, '--token', await token('lossy', 'native'),
      '--duration', '14', '--width', '320', '--height', '240', '--fps', '15']);
    // The loss starts once the call is set up (a lost DTLS packet waits a second or more
    // for its retransmission; this is about media, not setup).
    await sleep(3000);
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

test('through 10 % loss both ways, two browsers keep decoding each other', { timeout: 120000 }, async () => {
  await withLab(async ({ lab, browser, token }) => {
    const pages = [];
    for (const user of ['ann', 'ben']) {
      const page = await browser.newPage();
      await page.goto(`${lab.labUrl}/demo/`);
      await page.evaluate(browserParticipant, { token: await token('browsers', user) });
      pages.push(page);
    }
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
  });
});
