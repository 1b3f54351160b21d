// Screen share with its sound from Chromium through parley.js: startScreenShare({ audio:
// true }) takes the capture's audio (Chromium's fake capture offers a beeping track) and
// sends it in the audio track: alone while the microphone is not published (the audio
// track comes and goes with the share), mixed with the microphone while it is (one audio
// track throughout, muted as a whole). Bob hears it: his playout's level (0..255).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchChromium } from './harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(fn, what, tries = 80) {
  for (let i = 0; i < tries; i++) {
    const v = await fn();
    if (v) return v;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function joinPage({ token, name }) {
  const { createEngine } = await import('/sdk/parley.js');
  const engine = createEngine({ playAudio: true });
  window.engine = engine;
  window.events = [];
  for (const ev of ['remoteTrackAvailable', 'remoteTrackUnavailable', 'remoteTrackMuted', 'error']) {
    engine.on(ev, (p) => window.events.push({ ev, userId: p.userId, track: p.track, muted: p.muted, code: p.code }));
  }
  await engine.joinChannel(token, name);
}

// The loudest Bob's playout played over 1.5 s, 0..255 (the fake captures beep once a second).
async function heard() {
  let loudest = 0;
  for (let i = 0; i < 30; i++) {
    loudest = Math.max(loudest, window.engine.getPlayoutLevel());
    await new Promise((r) => setTimeout(r, 50));
  }
  return loudest;
}

test('the screen\'s sound goes in the audio track, alone or mixed with the microphone', { timeout: 120000 }, async () => {
  const server = await startServer();
  const browser = await launchChromium({ args: ['--autoplay-policy=no-user-gesture-required'] });
  try {
    const app = await server.admin('POST', '/v1/admin/apps', { name: 'screen-audio' });
    const open = async (user) => {
      const { token } = await server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
        { channelId: 'room', userId: user, ttlSeconds: 600 });
      const page = await browser.newPage();
      await page.goto(`${server.url}/demo/`);
      await page.evaluate(joinPage, { token, name: user });
      return page;
    };
    const aliceTracks = async () => {
      const { channels } = await server.admin('GET', `/v1/admin/apps/${app.appId}/channels`);
      return (channels[0]?.users.find((u) => u.userId === 'alice')?.tracks || []).slice().sort();
    };
    const alice = await open('alice');
    const bob = await open('bob');

    // No microphone: the screen's sound is published as the audio track.
    const offered = await alice.evaluate(async () => {
      await window.engine.startScreenShare({ audio: true });
      return window.engine.getScreenStream().getAudioTracks().length;
    });
    assert.equal(offered, 1, 'Chromium offers the capture\'s sound');
    assert.deepEqual(await aliceTracks(), ['audio', 'screen']);
    const first = await until(async () => { const h = await bob.evaluate(heard); return h > 60 && h; },
      'bob to hear the screen\'s sound', 20);
    console.log(`# bob hears the screen alone: ${JSON.stringify(first)}`);

    // The microphone joins: still one audio track, now the mix of both.
    const mixed = await alice.evaluate(async () => {
      await window.engine.publishLocalAudioStream(true);
      const sent = window.engine.publishPc.getSenders().find((s) => s.track?.kind === 'audio').track;
      return { sent: sent.label, mic: window.engine.getLocalStream().getAudioTracks()[0].label };
    });
    console.log(`# alice sends ${JSON.stringify(mixed)}`);
    assert.notEqual(mixed.sent, mixed.mic, 'the sender carries the mix, not the microphone alone');
    assert.deepEqual(await aliceTracks(), ['audio', 'screen']);
    const mix = await until(async () => { const h = await bob.evaluate(heard); return h > 60 && h; }, 'bob to hear the mix', 20);
    console.log(`# bob hears the mix: ${mix}`);

    // Muting the microphone mutes the whole audio track, the screen's sound too.
    const muted = await alice.evaluate(async () => {
      await window.engine.muteLocalMic(true);
      return window.engine.publishPc.getSenders().find((s) => s.track?.kind === 'audio').track.enabled;
    });
    assert.equal(muted, false);
    await until(async () => (await bob.evaluate(() => window.events)).some((e) => e.ev === 'remoteTrackMuted' && e.muted),
      'bob to see alice muted');
    await alice.evaluate(() => window.engine.muteLocalMic(false));

    // The share ends: the microphone's track goes on alone; without it, nothing is left.
    await alice.evaluate(() => window.engine.stopScreenShare());
    assert.deepEqual(await aliceTracks(), ['audio']);
    await alice.evaluate(async () => {
      await window.engine.publishLocalAudioStream(false);
      await window.engine.startScreenShare({ audio: true });
    });
    assert.deepEqual(await aliceTracks(), ['audio', 'screen']);
    await alice.evaluate(() => window.engine.stopScreenShare());
    assert.deepEqual(await aliceTracks(), []);
    // Without { audio: true } a share has no sound and publishes no audio track.
    await alice.evaluate(() => window.engine.startScreenShare());
    assert.deepEqual(await aliceTracks(), ['screen']);
    const errors = (await alice.evaluate(() => window.events)).filter((e) => e.ev === 'error');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});
