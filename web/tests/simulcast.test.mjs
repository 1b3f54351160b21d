// Dual stream between browsers: alice publishes her camera as two layers (parley.js's
// default, simulcast by RID), bob asks for her small stream and carol for her big one;
// each decodes the size it asked for. Then bob switches to big and carol to small: the
// SFU switches each at a keyframe, the picture grows or shrinks, and neither freezes.
// With both on big the small layer is paused; alone in a channel, a publisher's big
// layer is paused (nobody watches it) and resumed for the native subscriber who asks
// for it. The reverse: a native dual-stream camera (libparley's two sections) reaches
// browser subscribers in the layer each asks for, and its unwatched layer stops; with
// the switch off (--no-dual-stream) a native camera is one stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { withChannel, outDir, parleyCliPath, runJsonLines } from './harness.mjs';
import { browserParticipant, camera, watch, watcher } from './participants.mjs';

// In a subscriber's page: its inbound video streams' counters (for a failure's story).
async function videoIn() {
  const out = [];
  (await window.engine.subscribePc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video')
      out.push({ ssrc: s.ssrc, packets: s.packetsReceived, lost: s.packetsLost, frames: s.framesReceived,
        decoded: s.framesDecoded, keyframes: s.keyFramesDecoded, plis: s.pliCount, nacks: s.nackCount, width: s.frameWidth });
  });
  return out;
}

// In a publisher's page: what each of its camera's layers sends (rid → width, bytes).
async function layers() {
  const out = {};
  (await window.engine.publishPc.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'video') out[s.rid || '-'] = { width: s.frameWidth || 0, bytes: s.bytesSent };
  });
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('each subscriber gets the layer of a dual-stream camera it asks for and switches without freezing',
  { timeout: 120000 }, async () => {
    await withChannel({ app: 'dual', channel: 'dual' }, async ({ browser, page: alice, token, server, app }) => {
      await alice.evaluate(browserParticipant, { token: await token('alice') });
      const subscriber = async (user, type) => {
        const page = await browser.newPage();
        await page.goto(`${server.url}/demo/`);
        await page.evaluate(browserParticipant, { token: await token(user) });
        await page.evaluate((t) => window.engine.setRemoteVideoStreamType('alice', t), type);
        return page;
      };
      const bob = await subscriber('bob', 'small');
      const carol = await subscriber('carol', 'big');

      // The browser sends both layers once its bandwidth estimate allows the big one.
      let sent = {};
      for (const end = Date.now() + 30000; Date.now() < end; await sleep(500)) {
        sent = await alice.evaluate(layers);
        if (sent.q?.width && sent.f?.width > sent.q.width) break;
      }
      assert.ok(sent.q?.width > 0 && sent.f?.width > sent.q.width, `alice sends two layers: ${JSON.stringify(sent)}`);
      await sleep(2000);
      const later = await alice.evaluate(layers);
      const kbps = (rid) => Math.round(((later[rid].bytes - sent[rid].bytes) * 8) / (2 * 1000));
      console.log(`# layers sent: q ${later.q.width} px ${kbps('q')} kbit/s, f ${later.f.width} px ${kbps('f')} kbit/s`);

      // The layers' sizes as sent (the browser may still adapt them to its CPU: the small
      // one is what a subscriber of the small layer decodes, the big one at least 1.5x it).
      const isSmall = (s) => s.width > 0 && s.width <= sent.q.width;
      const isBig = (s) => s.width >= 1.5 * sent.q.width;
      const small = await watch(bob, isSmall, 20000);
      const big = await watch(carol, isBig, 20000);
      console.log(`# sent ${JSON.stringify(sent)}; bob decodes ${JSON.stringify(small)}, carol ${JSON.stringify(big)}`);
      assert.ok(isSmall(small), 'bob decodes the small layer');
      assert.ok(isBig(big), 'carol decodes the big layer');

      // Both switch: bob up, carol down. Each keeps decoding through the switch.
      await bob.evaluate(() => window.engine.setRemoteVideoStreamType('alice', 'big'));
      await carol.evaluate(() => window.engine.setRemoteVideoStreamType('alice', 'small'));
      const up = await watch(bob, isBig, 15000);
      const down = await watch(carol, isSmall, 15000);
      console.log(`# after the switch: bob ${JSON.stringify(up)}, carol ${JSON.stringify(down)}`);
      assert.ok(isBig(up), 'bob switched to big');
      assert.ok(isSmall(down), 'carol switched to small');
      const after = await watch(bob, () => false, 2000);
      assert.ok(after.frames > up.frames, 'bob keeps decoding after the switch');
      assert.ok(up.longestFreeze < 1000 && down.longestFreeze < 1000,
        `no freeze of a second or more: bob ${up.longestFreeze} ms, carol ${down.longestFreeze} ms`);
      await bob.screenshot({ path: join(outDir, 'simulcast-bob-big.png') });
      await carol.screenshot({ path: join(outDir, 'simulcast-carol-small.png') });

      // Both on big: nobody watches the small layer any more, and alice stops encoding it
      // while both keep decoding the big one.
      await carol.evaluate(() => window.engine.setRemoteVideoStreamType('alice', 'big'));
      let on = {};
      for (const end = Date.now() + 10000; Date.now() < end; await sleep(500)) {
        on = await alice.evaluate(encodingsOn);
        if (on.q === false) break;
      }
      assert.deepEqual(on, { q: false, f: true }, 'the small layer nobody watches is paused');
      // (The browser restarts its encoder for the new set of layers, and may briefly send
      // the big one smaller while its estimate settles; and a subscriber whose REMB
      // misjudged the loaded loopback may have had its video paused, which a trial ends
      // within 4 s: watched for 8 seconds.)
      const [bobBig, carolBig] = [await watch(bob, isBig, 8000), await watch(carol, isBig, 8000)];
      console.log(`# both on big: alice's encodings ${JSON.stringify(on)}; bob ${JSON.stringify(bobBig)}, carol ${JSON.stringify(carolBig)}; sent ${JSON.stringify(await alice.evaluate(layers))}`);
      if (!isBig(carolBig)) {
        const { channels } = await server.admin('GET', `/v1/admin/apps/${app.appId}/channels`);
        const carolServer = channels[0]?.users.find((u) => u.userId === 'carol');
        console.log(`# carol at the server ${JSON.stringify(carolServer?.subscribeMedia)}; carol receives ${JSON.stringify(await carol.evaluate(videoIn))}`);
      }
      assert.ok(isBig(bobBig) && isBig(carolBig), 'both still decode the big layer');

      // A type that is not one is refused by the SDK before it reaches the server.
      const refused = await bob.evaluate(() => window.engine.setRemoteVideoStreamType('alice', 'huge')
        .then(() => 'accepted', (e) => e.hex));
      assert.equal(refused, '0x01010501');
    });
  });

// In a publisher's page: whether each of its camera's encodings is on (rid → active).
function encodingsOn() {
  const sender = window.engine.publishPc.getSenders().find((x) => x.track?.kind === 'video');
  return Object.fromEntries((sender?.getParameters().encodings || []).map((e) => [e.rid, e.active !== false]));
}

// Publisher economy: with nobody watching, the browser stops encoding its big layer (the
// server's publishLayers); a native subscriber asking for big gets it back at once.
test('a layer nobody watches is paused, and a native subscriber gets the layer of a browser\'s dual-stream camera it asks for',
  { timeout: 120000 }, async () => {
    await withChannel({ app: 'dual-native', channel: 'dual' }, async ({ page: alice, token, signal }) => {
      await alice.evaluate(browserParticipant, { token: await token('alice') });
      // Alone in the channel: the small layer flows; the big one, once the browser's
      // estimate let it start, is paused 2 s later and its bytes stop.
      let sent = {}, on = {}, prev = await alice.evaluate(layers);
      let paused = false;
      for (const end = Date.now() + 40000; !paused && Date.now() < end;) {
        await sleep(2000);
        sent = await alice.evaluate(layers);
        on = await alice.evaluate(encodingsOn);
        const grew = (rid) => (sent[rid]?.bytes ?? 0) - (prev[rid]?.bytes ?? 0);
        paused = on.f === false && on.q === true && sent.f?.bytes > 0 && grew('f') === 0 && grew('q') > 10000;
        prev = sent;
      }
      console.log(`# alone: encodings ${JSON.stringify(on)}, sent ${JSON.stringify(sent)}`);
      assert.ok(paused, `the big layer nobody watches is paused: ${JSON.stringify({ on, sent })}`);
      // `parley join` (libparley) receiving only, with its default stream type set.
      const join = async (user, type) => {
        const r = await runJsonLines(parleyCliPath(), ['join', '--json', '--server', signal, '--token', await token(user),
          '--publish', '', '--video-stream', type, '--duration', '8']);
        assert.equal(r.status, 0, r.err);
        const stats = r.events.filter((e) => e.event === 'stats').pop();
        return stats?.received?.alice;
      };
      const [small, big] = await Promise.all([join('small', 'small'), join('big', 'big')]);
      const during = await alice.evaluate(layers);
      console.log(`# native received small ${JSON.stringify(small)}, big ${JSON.stringify(big)}; sent ${JSON.stringify(during)}`);
      assert.ok(small?.width > 0 && small.width <= sent.q.width, 'the small layer');
      assert.ok(big?.width >= 1.5 * sent.q.width, 'the big layer, resumed for the subscriber who asked for it');
      assert.ok(small.videoFrames > 30 && big.videoFrames > 30, 'both decode');
      assert.ok(during.f.bytes > sent.f.bytes, 'the browser encoded its big layer again');
      // Both gone: nobody watches the big layer any more, and it is paused again.
      let again = {};
      for (const end = Date.now() + 10000; Date.now() < end; await sleep(500)) {
        again = await alice.evaluate(encodingsOn);
        if (again.f === false) break;
      }
      assert.equal(again.f, false, `paused again once its subscriber left: ${JSON.stringify(again)}`);
    });
  });

// libparley's dual stream, on by default: `parley join` publishes its 640x360 camera and
// a 320x180 layer, each in its own video section (cameraLayers 2).
test('a native dual-stream camera reaches each browser in the layer it asks for, and the layer nobody watches stops',
  { timeout: 120000 }, async () => {
    await withChannel({ app: 'dual-from-native', channel: 'dual' }, async ({ browser, page: bob, token, signal, server, app }) => {
      const alice = spawn(parleyCliPath(), ['join', '--server', signal, '--token', await token('alice'),
        '--no-subscribe', '--duration', '90'], { stdio: 'ignore' });
      try {
        const media = async (user = 'alice') => {
          const { channels } = await server.admin('GET', `/v1/admin/apps/${app.appId}/channels`);
          return channels[0]?.users.find((u) => u.userId === user)?.media;
        };
        await bob.evaluate(watcher, { token: await token('bob'), type: 'small' });
        const carol = await browser.newPage();
        await carol.goto(`${server.url}/demo/`);
        await carol.evaluate(watcher, { token: await token('carol'), type: 'big' });
        const isSmall = (x) => x.width > 0 && x.width <= 320;
        const isBig = (x) => x.width >= 640;
        const [small, big] = [await watch(bob, isSmall, 30000), await watch(carol, isBig, 30000)];
        // Rates are over the last full second, written every 250 ms: the first frames can
        // come before a window with both layers in it has closed.
        let both = await media();
        for (const end = Date.now() + 5000; !(both?.trackKbps?.[1] > 0 && both.trackKbps[2] > 0) && Date.now() < end;
          await sleep(250)) both = await media();
        console.log(`# native layers ${JSON.stringify(both?.trackKbps)} kbit/s (audio, small, big); bob ${JSON.stringify(small)}, carol ${JSON.stringify(big)}`);
        assert.ok(isSmall(small), 'bob decodes the small layer');
        assert.ok(isBig(big), 'carol decodes the big layer');
        assert.equal(both.trackKbps.length, 3, 'three streams: audio and the camera\'s two sections');
        assert.ok(both.trackKbps[1] > 0 && both.trackKbps[2] > both.trackKbps[1], 'both layers are sent, the big one larger');
        await bob.screenshot({ path: join(outDir, 'simulcast-native-small.png') });

        // Bob switches to big: nobody watches the small layer, the server pauses it and
        // libparley stops encoding it (its stream's rate at the server falls to 0).
        await bob.evaluate(() => window.engine.setRemoteVideoStreamType('alice', 'big'));
        const up = await watch(bob, isBig, 15000);
        assert.ok(isBig(up), `bob switched to big: ${JSON.stringify(up)}`);
        let after = {};
        for (const end = Date.now() + 15000; Date.now() < end; await sleep(500)) {
          after = await media();
          if (after.pausedLayers === 2 && after.trackKbps[1] === 0) break;
        }
        const still = [await watch(bob, () => false, 1500), await watch(carol, () => false, 1500)];
        console.log(`# both on big: layers ${JSON.stringify(after.trackKbps)} kbit/s, paused ${after.pausedLayers}; bob ${JSON.stringify(still[0])}, carol ${JSON.stringify(still[1])}`);
        assert.equal(after.pausedLayers, 2, 'the small layer (stream 1) is paused');
        assert.equal(after.trackKbps[1], 0, 'and libparley stopped sending it');
        assert.ok(after.trackKbps[2] > 0, 'the big one flows');
        assert.ok(isBig(still[0]) && isBig(still[1]) && still[0].longestFreeze < 1000 && still[1].longestFreeze < 1000,
          'both keep decoding the big layer');

        // Carol asks for small again: the layer resumes, starting at a keyframe.
        const asked = Date.now();
        await carol.evaluate(() => window.engine.setRemoteVideoStreamType('alice', 'small'));
        const down = await watch(carol, isSmall, 15000);
        const resumed = await media();
        console.log(`# small again after ${Date.now() - asked} ms: carol ${JSON.stringify(down)}, layers ${JSON.stringify(resumed.trackKbps)}`);
        assert.ok(isSmall(down), 'carol gets the small layer back');
        assert.equal(resumed.pausedLayers, 0, 'nothing is paused');
        await carol.screenshot({ path: join(outDir, 'simulcast-native-small-again.png') });

        // The switch off: `--no-dual-stream` publishes the camera as one stream.
        const dave = spawn(parleyCliPath(), ['join', '--server', signal, '--token', await token('dave'),
          '--no-dual-stream', '--no-subscribe', '--duration', '30'], { stdio: 'ignore' });
        try {
          let one;
          for (const end = Date.now() + 15000; !(one?.trackKbps?.length > 0) && Date.now() < end; await sleep(250))
            one = await media('dave');
          assert.equal(one?.trackKbps?.length, 2, `dave sends audio and one camera stream: ${JSON.stringify(one)}`);
        } finally {
          dave.kill('SIGINT');
        }
      } finally {
        alice.kill('SIGINT');
      }
    });
  });
