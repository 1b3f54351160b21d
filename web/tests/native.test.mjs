// Interop: a native client (`parley join`, libparley on GStreamer webrtcbin, in
// H5-compatible mode, its default) and a browser (parley.js in Chromium) in one
// channel receive each other's audio and video through parleyd. With H5-compatible
// mode turned off (--no-h5) the native client is refused (0x02010121). Audio goes in
// RED both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launchChromium, outDir, parleyCliPath, runJsonLines } from './harness.mjs';
import { browserParticipant, inbound, hear } from './participants.mjs';

function parleyCli() {
  const cli = parleyCliPath();
  if (!cli) throw new Error('parley CLI not built; set PARLEY_CLI');
  return cli;
}

// Runs `parley join --json` to completion; resolves with its exit status and events.
const parleyJoin = (args) => runJsonLines(parleyCli(), ['join', '--json', ...args]);

test('a native client and a browser see and hear each other (H5-compatible mode by default)', { timeout: 90000 }, async () => {
  const server = await startServer();
  const browser = await launchChromium();
  try {
    const app = await server.admin('POST', '/v1/admin/apps', { name: 'interop' });
    const token = async (user) => (await server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
      { channelId: 'mixed', userId: user, ttlSeconds: 600 })).token;
    const page = await browser.newPage();
    await page.goto(`${server.url}/demo/`);
    await page.evaluate(browserParticipant, { token: await token('web') });
    const signal = `ws://127.0.0.1:${server.port}/v1/signal`;

    // Without H5-compatible mode the native client may not join the browser's channel.
    const refused = await parleyJoin(['--server', signal, '--token', await token('native0'), '--no-h5', '--duration', '2']);
    assert.equal(refused.status, 1);
    assert.match(refused.err, /0x02010121/);

    await page.evaluate(async () => {
      window.volumes = [];
      window.engine.on('volumeIndication', ({ speakers }) => window.volumes.push(speakers));
      await window.engine.enableAudioVolumeIndication(500, 0);
    });
    const native = parleyJoin(['--server', signal, '--token', await token('native'), '--duration', '8',
      '--width', '320', '--height', '240', '--fps', '15']);
    await new Promise((r) => setTimeout(r, 6000));
    const first = await page.evaluate(inbound);
    await new Promise((r) => setTimeout(r, 1500));
    const second = await page.evaluate(inbound);
    // While both are in the call: what the SFU received from each.
    const channels = await server.admin('GET', `/v1/admin/apps/${app.appId}/channels`);
    const users = channels.channels.find((c) => c.channelId === 'mixed')?.users ?? [];
    const red = Object.fromEntries(users.map((u) => [u.userId, u.media?.redPackets ?? 0]));
    console.log(`# audio packets in RED received by the SFU: ${JSON.stringify(red)}`);
    assert.ok(red.native > 50, 'the native client sends its audio in RED');
    assert.ok(red.web > 50, 'the browser sends its audio in RED (the answer prefers it)');
    // Volume indication in the browser: the native tone is loud, and the browser's own
    // (fake, beeping) microphone has an entry of its own.
    const volumes = (await page.evaluate(() => window.volumes)).slice(-6);
    console.log(`# browser volume indications (last 6): ${JSON.stringify(volumes)}`);
    assert.ok(volumes.length >= 2, 'volume indications arrive every 500 ms');
    assert.ok(volumes.some((list) => list.some((v) => v.userId === 'native' && v.volume > 30)), 'the native tone is heard as loud');
    assert.ok(volumes.every((list) => list.some((v) => v.userId === '')), 'the local microphone has its own entry');
    await page.screenshot({ path: join(outDir, 'interop-browser.png') });
    const result = await native;
    const stats = result.events.filter((e) => e.event === 'stats').pop();
    console.log(`# native received ${JSON.stringify(stats?.received)}; browser received ${JSON.stringify(second)}`);
    assert.equal(result.status, 0, result.err);
    assert.ok(result.events.some((e) => e.event === 'joined'));
    assert.ok(stats.received.web.videoFrames > 20, 'native decodes the browser\'s video');
    assert.ok(stats.received.web.audioMs > 1000, 'native decodes the browser\'s audio');
    assert.ok(second.video && second.video.frames > first.video.frames, 'the browser keeps decoding the native video');
    assert.equal(second.video.width, 320);
    assert.ok(second.audio && second.audio.bytes > first.audio.bytes, 'the browser keeps receiving native audio');
    // ... in RED (RFC 2198), which it decodes: the samples it played in 1.5 s were
    // decoded, not concealed.
    const played = second.audio.samples - first.audio.samples;
    const concealed = second.audio.concealed - first.audio.concealed;
    console.log(`# browser played ${played} samples of native audio, ${concealed} concealed`);
    assert.ok(played > 48000, 'the browser plays the native audio');
    assert.ok(concealed < played / 10, 'the browser decodes the native audio');
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('a browser and a native client message each other, to the channel and to one member', { timeout: 60000 }, async () => {
  const server = await startServer();
  const browser = await launchChromium();
  try {
    const app = await server.admin('POST', '/v1/admin/apps', { name: 'messages' });
    const token = async (user) => (await server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
      { channelId: 'talk', userId: user, ttlSeconds: 600 })).token;
    const page = await browser.newPage();
    await page.goto(`${server.url}/demo/`);
    await page.evaluate(browserParticipant, { token: await token('web') });
    const signal = `ws://127.0.0.1:${server.port}/v1/signal`;
    // The native client sends two messages once joined and stays 5 s to hear the answer.
    const native = parleyJoin(['--server', signal, '--token', await token('native'), '--duration', '5', '--publish', '',
      '--message', 'to everyone, 你好', '--message', '@web just for the browser']);
    const heard = await hear(page, (h) => h.filter((x) => x.ev === 'message').length >= 2, 15000);
    const messages = heard.filter((x) => x.ev === 'message');
    assert.deepEqual(messages, [
      { ev: 'message', fromUserId: 'native', data: 'to everyone, 你好', direct: false },
      { ev: 'message', fromUserId: 'native', data: 'just for the browser', direct: true },
    ]);
    await page.evaluate(async () => {
      await window.engine.sendMessage('hello from the browser');
      await window.engine.sendMessage('and one for you', 'native');
    });
    const result = await native;
    assert.equal(result.status, 0, result.err);
    const got = result.events.filter((e) => e.event === 'message').map((e) => `${e.fromUserId}: ${e.data}${e.direct ? ' (direct)' : ''}`);
    assert.deepEqual(got, ['web: hello from the browser', 'web: and one for you (direct)']);
  } finally {
    await browser.close();
    await server.stop();
  }
});
