// Remote audio played by parley.js itself (createEngine({ playAudio: true })): Bob's
// engine plays Alice's microphone (Chromium's fake one: a beep each second) through
// Web Audio; the level it plays falls to nothing with her volume at 0, with her muted
// and with the whole playout at 0, and comes back; a speaker the browser does not have
// is 0x01040410; volumes outside 0..400 are 0x0F010005; an engine that leaves playback
// to the page refuses the calls with 0x01030204.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchChromium } from './harness.mjs';

test('the engine plays remote audio with per-user and whole volumes and a speaker choice', { timeout: 90000 }, async () => {
  const server = await startServer();
  const browser = await launchChromium({ args: ['--autoplay-policy=no-user-gesture-required'] });
  try {
    const app = await server.admin('POST', '/v1/admin/apps', { name: 'playout' });
    const token = async (userId) => (await server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
      { channelId: 'hall', userId, ttlSeconds: 600 })).token;
    const alice = await browser.newPage();
    await alice.goto(`${server.url}/healthz`);
    await alice.evaluate(async ({ token }) => {
      const { createEngine } = await import('/sdk/parley.js');
      window.engine = createEngine();
      await window.engine.joinChannel(token, 'Alice');
      await window.engine.publishLocalAudioStream(true);
    }, { token: await token('alice') });
    const bob = await browser.newPage();
    await bob.goto(`${server.url}/healthz`);
    const r = await bob.evaluate(async ({ token }) => {
      const { createEngine } = await import('/sdk/parley.js');
      const refusals = {};
      const plain = createEngine();
      try { plain.setPlayoutVolume(50); } catch (e) { refusals.noPlayout = e.hex; }
      plain.destroy();
      const engine = createEngine({ playAudio: true });
      window.engine = engine;
      await engine.joinChannel(token, 'Bob');
      const until = async (pred, ms) => {
        for (const end = performance.now() + ms; performance.now() < end && !pred();) await new Promise((res) => setTimeout(res, 50));
        return pred();
      };
      await until(() => engine.playout.users.has('alice'), 10000);
      // The loudest level played over `ms` (the fake microphone beeps once a second).
      const loudest = async (ms = 2500) => {
        await new Promise((res) => setTimeout(res, 200));  // the analyser holds the last 43 ms
        let max = 0;
        for (const end = performance.now() + ms; performance.now() < end;) {
          max = Math.max(max, engine.getPlayoutLevel());
          await new Promise((res) => setTimeout(res, 20));
        }
        return max;
      };
      const levels = {};
      levels.playing = await loudest(4000);
      engine.setRemoteAudioVolume('alice', 0);
      levels.userZero = await loudest();
      engine.setRemoteAudioVolume('alice', 100);
      levels.userBack = await loudest();
      engine.muteRemoteAudioPlaying('alice', true);
      levels.muted = await loudest();
      engine.muteRemoteAudioPlaying('alice', false);
      engine.setPlayoutVolume(0);
      levels.wholeZero = await loudest();
      engine.setPlayoutVolume(100);
      levels.wholeBack = await loudest();
      try { engine.setPlayoutVolume(401); } catch (e) { refusals.tooLoud = e.hex; }
      try { engine.setRemoteAudioVolume('alice', -1); } catch (e) { refusals.negative = e.hex; }
      try { await engine.setAudioOutputDevice('no-such-speaker'); } catch (e) { refusals.speaker = e.hex; }
      let defaultSpeaker = 'ok';
      await engine.setAudioOutputDevice('').catch((e) => { defaultSpeaker = e.hex; });
      return { levels, refusals, defaultSpeaker, state: engine.playout.ctx.state, users: [...engine.playout.users.keys()] };
    }, { token: await token('bob') });
    console.log(`bob's playout of alice, loudest 0..255: ${JSON.stringify(r.levels)}; audio context ${r.state}, users ${r.users}; ` +
      `refusals ${JSON.stringify(r.refusals)}; default speaker ${r.defaultSpeaker}`);
    assert.ok(r.levels.playing > 100, `alice is not played (${r.levels.playing})`);
    assert.ok(r.levels.userZero < 10, 'her volume at 0 still plays');
    assert.ok(r.levels.userBack > 100, 'her volume did not come back');
    assert.ok(r.levels.muted < 10, 'muted, she still plays');
    assert.ok(r.levels.wholeZero < 10, 'the whole playout at 0 still plays');
    assert.ok(r.levels.wholeBack > 100, 'the whole playout did not come back');
    assert.deepEqual(r.refusals, { noPlayout: '0x01030204', tooLoud: '0x0F010005', negative: '0x0F010005', speaker: '0x01040410' });
    assert.equal(r.defaultSpeaker, 'ok');
  } finally {
    await browser.close();
    await server.stop();
  }
});
