// Dual stream on a thin link (docs/network-lab.md): a native dual-stream camera, and two
// browsers on `auto`, one behind the lab's emulated link and one beside the server; then
// the reverse, a browser's simulcast camera and two native subscribers (libparley) on
// `auto`, one behind the link and one beside.
// When the link's downlink is capped below the big layer, the browser behind it falls
// to the small layer without a freeze of a second, while the other keeps the big one;
// the SFU probes the link now and then for room for the big layer (clusters of padding
// at the big layer's rate: an estimate cannot show room the subscriber is not sent), and
// finds none; when the cap lifts a probe finds room and the capped browser is back on big.
// Assertions are about which layer each decodes and about freezes, never timings; the
// times are printed for docs/performance.md. The server estimates each subscriber's
// downstream itself, from its transport-cc feedback (Chromium's and webrtcbin's alike).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { launchChromium, outDir, parleyCliPath } from './harness.mjs';
import { SERVER_ADDRESS, startLab } from './lab.mjs';
import { browserParticipant, watch, watcher } from './participants.mjs';

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
      // climbs (by probes: an estimate cannot show room it does not see). Both settled on
      // big first: 3 s in a row on it with an estimate.
      const view = async (id) => (await users()).find((u) => u.userId === id);
      let settled = 0, start = [];
      for (const end = Date.now() + 90000; settled < 6 && Date.now() < end; await sleep(500)) {
        start = await Promise.all([watch(carol, () => true, 0), watch(dave, () => true, 0)]);
        const estimates = await Promise.all(['carol', 'dave'].map(async (id) => (await view(id))?.subscribeMedia?.downstreamBps));
        settled = isBig(start[0]) && isBig(start[1]) && estimates.every((e) => e > 0) ? settled + 1 : 0;
      }
      assert.ok(settled >= 6, `both settle on the big layer on a free link: ${JSON.stringify(start)}`);
      // The server writes its send time and a transport-wide number in what it forwards;
      // the browsers report each packet's arrival, and the estimates are the server's.
      for (const page of [carol, dave]) {
        const sdp = await page.evaluate(() => window.engine.subscribePc.localDescription.sdp);
        assert.match(sdp, /a=extmap:3 [^\r\n]*abs-send-time/);
        assert.match(sdp, /a=extmap:4 [^\r\n]*transport-wide-cc/);
      }
      assert.ok((await view('carol')).subscribeMedia.twccFeedbacks > 0, 'Chromium reports arrivals');
      // The layers' rates at the server (over the last full second, written every 250 ms).
      let rates = [];
      for (const end = Date.now() + 5000; !(rates[1] > 0 && rates[2] > 0) && Date.now() < end; await sleep(250))
        rates = (await view('alice'))?.media?.trackKbps || [];

      // The cap: the small layer and the audio fit under it, the big layer does not.
      assert.equal(lab.ctl('downlink rate=250k'), 'ok\n');
      const capped = Date.now();
      const [down, kept] = await Promise.all([watch(carol, isSmall, 30000), watch(dave, () => false, 3000)]);
      const atDown = (await view('carol')).subscribeMedia;
      const switchesDown = atDown.layerSwitches;
      console.log(`# capped at 250 kbit/s: carol small after ${Date.now() - capped} ms ${JSON.stringify(down)}; dave ${JSON.stringify(kept)}; layers ${JSON.stringify(rates)} kbit/s (audio, small, big)`);
      assert.ok(isSmall(down), `the capped browser falls to the small layer: ${JSON.stringify(down)}`);
      assert.ok(down.longestFreeze < 1000, `without freezing for a second on the way: ${JSON.stringify(down)}`);
      // Held there while capped without a freeze of a second; the other browser keeps the
      // big layer.
      const [held, free] = await Promise.all([watch(carol, () => false, 20000), watch(dave, () => false, 20000)]);
      const thin = await view('carol');
      console.log(`# 20 s capped: carol ${JSON.stringify(held)} ${JSON.stringify(thin?.subscribeMedia)}; dave ${JSON.stringify(free)} ${JSON.stringify((await view('dave'))?.subscribeMedia)}; link ${JSON.stringify(lab.stats().downlink)}`);
      assert.ok(isSmall(held) && held.longestFreeze < 1000, `the capped browser keeps decoding the small layer: ${JSON.stringify(held)}`);
      assert.ok(isBig(free) && free.longestFreeze < 1000, `the other keeps the big one: ${JSON.stringify(free)}`);
      // Room for the big layer was looked for while capped with probes, not with the big
      // layer itself: none found, no switch up, no trial.
      assert.ok(thin.subscribeMedia.layerProbes > atDown.layerProbes,
        `the link was probed while capped: ${JSON.stringify(thin.subscribeMedia)}`);
      assert.equal(thin.subscribeMedia.layerSwitches, switchesDown, `no try of the big layer: ${JSON.stringify(thin.subscribeMedia)}`);
      assert.equal(thin.subscribeMedia.layerTrials, atDown.layerTrials, 'no trial with real video');
      assert.ok(thin.subscribeMedia.probeBps > 0 && thin.subscribeMedia.probeBps < 250000,
        `the probes' answers are what the cap leaves: ${thin.subscribeMedia.probeBps}`);
      await carol.screenshot({ path: join(outDir, 'capped-small.png') });

      // The cap lifts: the next probe finds room, and the capped browser is back on big.
      assert.equal(lab.ctl('profile good'), 'ok\n');
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

// `parley join --json` receiving only, on `auto`; `latest()` is its last per-second
// report of alice's stream (width, frames, and the longest gap between two rendered
// frames since the first: the CLI measures it per frame).
function nativeWatcher(command, args) {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let buffer = '', latest = {}, err = '';
  proc.stdout.on('data', (d) => {
    buffer += d;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        const e = JSON.parse(line);
        if (e.event === 'stats' && e.received?.alice) latest = e.received.alice;
      } catch { /* a line of text */ }
    }
  });
  proc.stderr.on('data', (d) => { err = (err + d).slice(-4000); });
  return { proc, latest: () => latest, err: () => err };
}

// Polls a native watcher until `done(latest)`, at most `ms`.
async function until(w, done, ms) {
  for (const end = Date.now() + ms; Date.now() < end && !done(w.latest()); await sleep(250));
  return w.latest();
}

test('behind a capped link a native subscriber on auto keeps a browser camera\'s small layer without freezing, and gets the big one back when the cap lifts',
  { timeout: 300000 }, async () => {
    const lab = await startLab();
    const beside = await launchChromium({ hosts: [SERVER_ADDRESS], args: [`--unsafely-treat-insecure-origin-as-secure=${lab.labUrl}`] });
    const watchers = [];
    try {
      const app = await lab.server.admin('POST', '/v1/admin/apps', { name: 'capped-native' });
      const token = async (userId) => (await lab.server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
        { channelId: 'thin', userId, ttlSeconds: 600 })).token;
      const users = async () => (await lab.server.admin('GET', `/v1/admin/apps/${app.appId}/channels`)).channels[0]?.users || [];
      const view = async (id) => (await users()).find((u) => u.userId === id);
      const alice = await beside.newPage();
      await alice.goto(`${lab.labUrl}/demo/`);
      await alice.evaluate(browserParticipant, { token: await token('alice') });
      const cli = parleyCliPath();
      const args = async (id) => ['join', '--json', '--server', lab.labUrl, '--token', await token(id), '--publish', '',
        '--video-stream', 'auto', '--duration', '200'];
      const carol = nativeWatcher('nsenter', lab.joinArgs([cli, ...await args('carol')]));
      const dave = nativeWatcher(cli, await args('dave'));
      watchers.push(carol, dave);
      const isSmall = (x) => x.width > 0 && x.width <= 320;
      const isBig = (x) => x.width >= 480;

      // Both settle on big first (3 s in a row, with an estimate from their feedback).
      let settled = 0;
      for (const end = Date.now() + 90000; settled < 6 && Date.now() < end; await sleep(500)) {
        const estimates = await Promise.all(['carol', 'dave'].map(async (id) => (await view(id))?.subscribeMedia?.downstreamBps));
        settled = isBig(carol.latest()) && isBig(dave.latest()) && estimates.every((e) => e > 0) ? settled + 1 : 0;
      }
      const free = await view('carol');
      console.log(`# settled: carol ${JSON.stringify(carol.latest())} ${JSON.stringify(free?.subscribeMedia)}; dave ${JSON.stringify(dave.latest())}; alice ${JSON.stringify((await view('alice'))?.media?.trackKbps)}`);
      assert.ok(settled >= 6, `both settle on the big layer on a free link: carol ${JSON.stringify(carol.latest())}, dave ${JSON.stringify(dave.latest())} ${carol.err()}`);
      // The estimate is the server's own: libparley reports every packet's arrival.
      assert.ok(free.subscribeMedia.twccFeedbacks > 0, `webrtcbin sends transport-cc feedback: ${JSON.stringify(free.subscribeMedia)}`);

      // 250 kbit/s: the small layer and the audio fit, the big one does not (a browser's
      // big layer at 640x360 takes 200-260 kbit/s, with 50-60 of audio beside it).
      assert.equal(lab.ctl('downlink rate=250k'), 'ok\n');
      const capped = Date.now();
      const before = carol.latest();
      // The server's estimate of carol's downstream and the width she decodes, every 500 ms.
      const trace = [];
      const tracer = setInterval(async () => {
        const est = (await view('carol'))?.subscribeMedia?.downstreamBps || 0;
        trace.push(`${((Date.now() - capped) / 1000).toFixed(1)}:${Math.round(est / 1000)}/${carol.latest().width}`);
      }, 500);
      const down = await until(carol, isSmall, 30000);
      console.log(`# capped at 250 kbit/s: carol small after ${Date.now() - capped} ms ${JSON.stringify(down)}`);
      const atDown = (await view('carol')).subscribeMedia;
      const switchesDown = atDown.layerSwitches;
      assert.ok(isSmall(down), `the capped native subscriber falls to the small layer: ${JSON.stringify(down)} ${JSON.stringify((await view('carol'))?.subscribeMedia)}; estimate/width ${trace.join(' ')}`);
      // 20 s capped: on small throughout (the link is probed for room, the big layer is
      // not tried), and decoding.
      let samples = 0, small = 0, keptBig = 0;
      for (const end = Date.now() + 20000; Date.now() < end; await sleep(250)) {
        samples++;
        if (isSmall(carol.latest())) small++;
        if (isBig(dave.latest())) keptBig++;
      }
      const held = carol.latest(), kept = dave.latest();
      const thin = await view('carol');
      console.log(`# 20 s capped: carol small in ${small}/${samples} samples ${JSON.stringify(held)} ${JSON.stringify(thin?.subscribeMedia)}; dave big in ${keptBig}/${samples} ${JSON.stringify(kept)}; link ${JSON.stringify(lab.stats().downlink)}`);
      clearInterval(tracer);
      console.log(`# carol's estimate (kbit/s) / width: ${trace.join(' ')}`);
      assert.ok(small === samples && held.videoFrames > down.videoFrames + 100,
        `the capped one keeps decoding the small layer: ${small}/${samples} ${JSON.stringify(held)}`);
      assert.ok(held.longestGapMs < 1000 || held.frozenMs - before.frozenMs < 1000,
        `without freezing for a second: ${JSON.stringify({ before, held })}`);
      assert.ok(keptBig === samples && kept.longestGapMs < 1000, `the other keeps the big one: ${keptBig}/${samples} ${JSON.stringify(kept)}`);
      assert.ok(thin.subscribeMedia.layerProbes > atDown.layerProbes,
        `the link was probed while capped: ${JSON.stringify(thin.subscribeMedia)}`);
      assert.equal(thin.subscribeMedia.layerSwitches, switchesDown, `no try of the big layer: ${JSON.stringify(thin.subscribeMedia)}`);
      assert.equal(thin.subscribeMedia.layerTrials, atDown.layerTrials, 'no trial with real video');

      assert.equal(lab.ctl('profile good'), 'ok\n');
      const lifted = Date.now();
      const up = await until(carol, isBig, 90000);
      console.log(`# cap lifted: carol big after ${Date.now() - lifted} ms ${JSON.stringify(up)} ${JSON.stringify((await view('carol'))?.subscribeMedia)}`);
      assert.ok(isBig(up), `back on the big layer once the link allows it: ${JSON.stringify(up)}`);
      assert.ok(up.longestGapMs < 1000 || up.frozenMs - held.frozenMs < 1000, `without freezing for a second: ${JSON.stringify(up)}`);
    } finally {
      for (const w of watchers) w.proc.kill('SIGINT');
      await beside.close();
      await lab.stop();
    }
  });
