// Dual stream on a thin link (docs/network-lab.md): a native dual-stream camera, and two
// browsers on `auto`, one behind the lab's emulated link and one beside the server.
// When the link's downlink is capped below the big layer, the browser behind it falls
// to the small layer without a freeze of a second, while the other keeps the big one;
// the SFU tries the big layer again now and then (its receiver's estimate cannot show
// room it does not see), and when the cap lifts the capped browser is back on big.
// Assertions are about which layer each decodes and about freezes, never timings; the
// times are printed for docs/performance.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { launchChromium, outDir, parleyCliPath } from './harness.mjs';
import { SERVER_ADDRESS, startLab } from './lab.mjs';
import { watch, watcher } from './participants.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const isSmall = (x) => x.width > 0 && x.width <= 320;
const isBig = (x) => x.width >= 640;

test('behind a capped link a browser on auto keeps the native camera\'s small layer without freezing, and gets the big one back when the cap lifts',
  { timeout: 300000 }, async () => {
    const lab = await startLab();
    const behind = await lab.launchChromium();
    const beside = await launchChromium({ hosts: [SERVER_ADDRESS], args: [`--unsafely-treat-insecure-origin-as-secure=${lab.labUrl}`] });
    let alice;
    try {
      const app = await lab.server.admin('POST', '/v1/admin/apps', { name: 'capped' });
      const token = async (userId) => (await lab.server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
        { channelId: 'thin', userId, ttlSeconds: 600 })).token;
      const users = async () => (await lab.server.admin('GET', `/v1/admin/apps/${app.appId}/channels`)).channels[0]?.users || [];
      alice = spawn(parleyCliPath(), ['join', '--server', lab.labUrl, '--token', await token('alice'), '--dual-stream',
        '--no-subscribe', '--duration', '200'], { stdio: 'ignore' });
      const pages = {};
      for (const [name, browser] of [['carol', behind], ['dave', beside]]) {
        pages[name] = await browser.newPage();
        await pages[name].goto(`${lab.labUrl}/demo/`);
        await pages[name].evaluate(watcher, { token: await token(name), type: 'auto' });
      }
      const { carol, dave } = pages;
      // Auto starts on big (no estimate yet), goes where the first estimates allow and
      // climbs (on trial: an estimate cannot show room it does not see). Both settled on
      // big first: 3 s in a row on it with an estimate.
      const view = async (id) => (await users()).find((u) => u.userId === id);
      let settled = 0, start = [];
      for (const end = Date.now() + 90000; settled < 6 && Date.now() < end; await sleep(500)) {
        start = await Promise.all([watch(carol, () => true, 0), watch(dave, () => true, 0)]);
        const estimates = await Promise.all(['carol', 'dave'].map(async (id) => (await view(id))?.subscribeMedia?.downstreamBps));
        settled = isBig(start[0]) && isBig(start[1]) && estimates.every((e) => e > 0) ? settled + 1 : 0;
      }
      assert.ok(settled >= 6, `both settle on the big layer on a free link: ${JSON.stringify(start)}`);
      // The server writes its send time in what it forwards (abs-send-time), which the
      // browsers' estimates are made from.
      for (const page of [carol, dave])
        assert.match(await page.evaluate(() => window.engine.subscribePc.localDescription.sdp), /a=extmap:3 [^\r\n]*abs-send-time/);
      // The layers' rates at the server (over the last full second, written every 250 ms).
      let rates = [];
      for (const end = Date.now() + 5000; !(rates[1] > 0 && rates[2] > 0) && Date.now() < end; await sleep(250))
        rates = (await view('alice'))?.media?.trackKbps || [];

      // The cap: the small layer and the audio fit under it, the big layer does not.
      assert.equal(lab.ctl('downlink rate=250k'), 'ok\n');
      const capped = Date.now();
      const [down, kept] = await Promise.all([watch(carol, isSmall, 30000), watch(dave, () => false, 3000)]);
      console.log(`# capped at 250 kbit/s: carol small after ${Date.now() - capped} ms ${JSON.stringify(down)}; dave ${JSON.stringify(kept)}; layers ${JSON.stringify(rates)} kbit/s (audio, small, big)`);
      assert.ok(isSmall(down), `the capped browser falls to the small layer: ${JSON.stringify(down)}`);
      assert.ok(down.longestFreeze < 1000, `without freezing for a second on the way: ${JSON.stringify(down)}`);
      // Held there while capped, trials of the big layer included, without a freeze of a
      // second; the other browser keeps the big layer.
      const [held, free] = await Promise.all([watch(carol, () => false, 20000), watch(dave, () => false, 20000)]);
      const thin = await view('carol');
      console.log(`# 20 s capped: carol ${JSON.stringify(held)} ${JSON.stringify(thin?.subscribeMedia)}; dave ${JSON.stringify(free)} ${JSON.stringify((await view('dave'))?.subscribeMedia)}; link ${JSON.stringify(lab.stats().downlink)}`);
      assert.ok(isSmall(held) && held.longestFreeze < 1000, `the capped browser keeps decoding the small layer: ${JSON.stringify(held)}`);
      assert.ok(isBig(free) && free.longestFreeze < 1000, `the other keeps the big one: ${JSON.stringify(free)}`);
      assert.ok(thin.subscribeMedia.layerTrials >= 1, 'the big layer was tried while capped, and given up');
      await carol.screenshot({ path: join(outDir, 'capped-small.png') });

      // The cap lifts: the next trial holds, and the capped browser is back on big.
      assert.equal(lab.ctl('restore'), 'ok\n');
      const lifted = Date.now();
      const up = await watch(carol, isBig, 90000);
      const after = await view('carol');
      console.log(`# cap lifted: carol big after ${Date.now() - lifted} ms ${JSON.stringify(up)} ${JSON.stringify(after?.subscribeMedia)}`);
      assert.ok(isBig(up), `back on the big layer once the link allows it: ${JSON.stringify(up)}`);
      assert.ok(up.longestFreeze < 1000, `without freezing for a second: ${JSON.stringify(up)}`);
      await carol.screenshot({ path: join(outDir, 'capped-lifted.png') });
    } finally {
      alice?.kill('SIGINT');
      await behind.close();
      await beside.close();
      await lab.stop();
    }
  });
