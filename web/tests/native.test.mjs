// Interop: a native client (`parley join`, libparley on GStreamer webrtcbin, in
// H5-compatible mode, its default) and a browser (parley.js in Chromium) in one
// channel receive each other's audio and video through parleyd. With H5-compatible
// mode turned off (--no-h5) the native client is refused (0x02010121). Audio goes in
// RED both ways. Stereo audio profiles carry two channels between them. The browser
// snapshots the native video and its own camera, follows its video configuration and
// unsubscribes one track. Data messages go both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { outDir, parleyCliPath, runJsonLines, withChannel } from './harness.mjs';
import { browserParticipant, inbound, hear } from './participants.mjs';

function parleyCli() {
  const cli = parleyCliPath();
  if (!cli) throw new Error('parley CLI not built; set PARLEY_CLI');
  return cli;
}

// Runs `parley join --json` to completion; resolves with its exit status and events.
const parleyJoin = (args) => runJsonLines(parleyCli(), ['join', '--json', ...args]);

test('a native client and a browser see and hear each other (H5-compatible mode by default)', { timeout: 90000 }, async () => {
  await withChannel({ app: 'interop', channel: 'mixed' }, async ({ server, app, page, token, signal }) => {
  await page.evaluate(browserParticipant, { token: await token('web') });

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
  // Snapshots: the native camera as received (PNG), the browser's own (JPEG), and
  // nothing for someone who is not there.
  const snaps = await page.evaluate(async () => {
    const size = async (blob) => {
      const bitmap = await createImageBitmap(blob);
      return { type: blob.type, width: bitmap.width, height: bitmap.height, bytes: blob.size };
    };
    const remote = await size(await window.engine.takeSnapshot('native', 'camera'));
    const local = await size(await window.engine.takeSnapshot('', 'camera', 'image/jpeg'));
    const missing = await window.engine.takeSnapshot('nobody', 'camera').then(() => null, (e) => e.hex);
    const audio = await window.engine.takeSnapshot('native', 'audio').then(() => null, (e) => e.hex);
    return { remote, local, missing, audio };
  });
  console.log(`# browser snapshots: ${JSON.stringify(snaps)}`);
  assert.deepEqual(snaps.remote.type === 'image/png' && [snaps.remote.width, snaps.remote.height], [320, 240]);
  assert.equal(snaps.local.type, 'image/jpeg');
  assert.ok(snaps.local.width > 0 && snaps.local.bytes > 1000, 'the local camera is captured');
  assert.equal(snaps.missing, '0x0F060001');
  assert.equal(snaps.audio, '0x0F010005');
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
  });
});

test('a browser and a native client message each other, to the channel and to one member', { timeout: 60000 }, async () => {
  await withChannel({ app: 'messages', channel: 'talk' }, async ({ page, token, signal }) => {
  await page.evaluate(browserParticipant, { token: await token('web') });
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
  });
});

// Data messages across the SDKs: the browser's data connection and the native client's
// (webrtcbin alone, the same four negotiated channels) meet in the SFU, which relays
// envelopes both ways: text to the channel and to one member, bytes unreliably.
test('a browser and a native client exchange data messages', { timeout: 60000 }, async () => {
  await withChannel({ app: 'data', channel: 'wire' }, async ({ page, token, signal }) => {
  await page.evaluate(browserParticipant, { token: await token('web') });
  await page.evaluate(async () => {
    window.engine.on('dataMessage', ({ userId, data, reliable, ordered }) => window.heard.push({
      ev: 'dataMessage', userId, data: typeof data === 'string' ? data : `${data.byteLength} bytes`, reliable, ordered,
    }));
    await window.engine.enableDataMessages(true);
  });
  const native = parleyJoin(['--server', signal, '--token', await token('native'), '--duration', '6', '--publish', '',
    '--data-message', 'over data, 你好', '--data-message', '@web just for the browser']);
  const heard = await hear(page, (h) => h.filter((x) => x.ev === 'dataMessage').length >= 2, 20000);
  assert.deepEqual(heard.filter((x) => x.ev === 'dataMessage'), [
    { ev: 'dataMessage', userId: 'native', data: 'over data, 你好', reliable: true, ordered: true },
    { ev: 'dataMessage', userId: 'native', data: 'just for the browser', reliable: true, ordered: true },
  ]);
  await page.evaluate(() => {
    window.engine.sendDataMessage('and back, to you', { to: 'native' });
    window.engine.sendDataMessage(new Uint8Array([1, 2, 3]), { reliable: false, ordered: false });
  });
  const result = await native;
  assert.equal(result.status, 0, result.err);
  const states = result.events.filter((e) => e.event === 'dataChannelState').map((e) => e.state);
  assert.deepEqual(states.slice(0, 2), ['connecting', 'open']);
  // Two streams: the unreliable, unordered one's message may overtake the other's.
  const got = result.events.filter((e) => e.event === 'dataMessage')
    .map(({ fromUserId, data, bytes, text, reliable, ordered }) => ({ fromUserId, data, bytes, text, reliable, ordered }))
    .sort((a, b) => Number(b.reliable) - Number(a.reliable));
  assert.deepEqual(got, [
    { fromUserId: 'web', data: 'and back, to you', bytes: 16, text: true, reliable: true, ordered: true },
    { fromUserId: 'web', data: undefined, bytes: 3, text: false, reliable: false, ordered: false },
  ]);
  });
});

// Audio profiles across the SDKs: a browser on the stereo music profile and a native
// client on the same profile (`--audio stereo-high --music`). The server hears of the
// browser's stereo and answers it stereo at 64 kbps; the native client decodes the
// browser's audio in two channels; the browser answers the native stereo stream for a
// stereo decoder and plays it.
test('stereo audio profiles: a browser and a native client send and receive two channels', { timeout: 60000 }, async () => {
  await withChannel({ app: 'stereo', channel: 'music' }, async ({ page, token, signal }) => {
  await page.evaluate(async ({ token }) => {
    const { createEngine, AudioProfile, AudioScenario } = await import('/sdk/parley.js');
    const engine = createEngine();
    window.engine = engine;
    await engine.setAudioProfile(AudioProfile.STEREO_HIGH_QUALITY, AudioScenario.MUSIC);
    engine.on('remoteTrackAvailable', ({ stream }) => {
      const a = document.createElement('audio');
      a.autoplay = true; a.srcObject = stream;
      document.body.append(a);
    });
    await engine.joinChannel(token, 'browser');
    await engine.publishLocalAudioStream(true);
  }, { token: await token('web') });
  const native = parleyJoin(['--server', signal, '--token', await token('native'), '--duration', '10',
    '--publish', 'audio', '--audio', 'stereo-high', '--music']);
  await new Promise((r) => setTimeout(r, 4000));
  const first = await page.evaluate(inbound);
  const sentBefore = await page.evaluate(outboundAudioBytes);
  await new Promise((r) => setTimeout(r, 2000));
  const second = await page.evaluate(inbound);
  const sentAfter = await page.evaluate(outboundAudioBytes);
  const sdp = await page.evaluate(() => ({
    publishAnswer: window.engine.publishPc.remoteDescription.sdp,
    subscribeAnswer: window.engine.subscribePc.localDescription.sdp,
    capture: window.engine.localStream.getAudioTracks()[0].getSettings(),
  }));
  const result = await native;
  const stats = result.events.filter((e) => e.event === 'stats').pop();
  const sentKbps = ((sentAfter - sentBefore) * 8) / 2000;
  const timeline = result.events.filter((e) => e.event === 'stats').map((e) => e.received?.web?.audioMs ?? 0);
  console.log(`# browser sends ${sentKbps.toFixed(1)} kbps of audio, capture ${JSON.stringify(sdp.capture)}; native received ${JSON.stringify(stats?.received?.web)}; native's decoded audio (ms) report by report: ${timeline.join(' ')}`);
  assert.equal(result.status, 0, result.err);
  assert.match(sdp.publishAnswer, /a=fmtp:\d+ [^\r\n]*stereo=1[^\r\n]*maxaveragebitrate=64000|a=fmtp:\d+ [^\r\n]*maxaveragebitrate=64000[^\r\n]*stereo=1/,
    'the browser applies a stereo answer at 64 kbps');
  assert.match(sdp.subscribeAnswer, /a=fmtp:110 [^\r\n]*stereo=1/, 'the native stereo stream is answered for a stereo decoder');
  assert.equal(stats.received.web.audioChannels, 2, 'native decodes the browser\'s audio in two channels');
  // Throughout: Chromium numbers its uplink probes (padding-only packets) in the audio
  // stream; the server forwards the audio without them and without the gaps they would
  // leave (in about half the runs GStreamer's jitter buffer stopped passing audio on
  // after ten "lost" packets within 20 ms of it).
  assert.ok(stats.received.web.audioMs > 5000, `native decodes the browser's audio throughout: ${timeline.join(' ')}`);
  assert.ok(sentKbps > 0, 'the browser sends audio');
  assert.ok(second.audio.samples - first.audio.samples > 48000, 'the browser plays the native stereo audio');
  assert.ok(second.audio.concealed - first.audio.concealed < 9600, 'the browser decodes the native stereo audio');
  // A new profile while publishing: captured and published again, on its terms.
  const after = await page.evaluate(async () => {
    const { AudioProfile, AudioScenario } = await import('/sdk/parley.js');
    await window.engine.setAudioProfile(AudioProfile.LOW_QUALITY, AudioScenario.SPEECH);
    return { answer: window.engine.publishPc.remoteDescription.sdp, publish: window.engine.publish,
      capture: window.engine.localStream.getAudioTracks()[0].getSettings() };
  });
  assert.match(after.answer, /maxaveragebitrate=12000/);
  assert.match(after.answer, /stereo=0/);
  assert.equal(after.publish.audio, true);
  assert.equal(after.capture.echoCancellation, true);
  });
});

// The publish connection's audio bytes sent so far.
async function outboundAudioBytes() {
  let bytes = 0;
  (await window.engine.publishPc.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'audio') bytes += s.bytesSent;
  });
  return bytes;
}

// The browser's camera follows its encoder configuration (before publishing, and
// while publishing without a renegotiation), as the native receiver sees it; and the
// browser stops receiving one track of the native client and keeps the other.
test('a browser\'s video configuration reaches a native receiver, and one track is unsubscribed', { timeout: 60000 }, async () => {
  await withChannel({ app: 'videocfg', channel: 'cfg' }, async ({ page, token, signal }) => {
  await page.evaluate(browserParticipant, { token: await token('web') });
  const refused = await page.evaluate(async () => {
    const codes = [];
    for (const c of [{ width: 15 }, { height: 241 }, { fps: 0 }, { bitrateKbps: 20001 }, { width: '320' }])
      codes.push(await window.engine.setVideoEncoderConfiguration(c).then(() => null, (e) => e.hex));
    await window.engine.setVideoEncoderConfiguration({ width: 320, height: 240, fps: 15, bitrateKbps: 300 });
    const s = window.engine.localStream.getVideoTracks()[0].getSettings();
    return { codes, width: s.width, height: s.height };
  });
  assert.deepEqual(refused.codes, Array(5).fill('0x01010405'));
  assert.deepEqual([refused.width, refused.height], [320, 240], 'the capture follows at once');
  const native = parleyJoin(['--server', signal, '--token', await token('native'), '--duration', '10',
    '--width', '320', '--height', '240', '--fps', '15']);
  await new Promise((r) => setTimeout(r, 4000));
  const before = await page.evaluate(inbound);
  const unsubscribed = await page.evaluate(async () => {
    const gone = [];
    window.engine.on('remoteTrackUnavailable', (e) => gone.push(`${e.userId}/${e.track}`));
    await window.engine.setVideoEncoderConfiguration({ width: 480, height: 270, fps: 15, bitrateKbps: 500 });
    const sender = window.engine.publishPc.getSenders().find((s) => s.track?.kind === 'video');
    const params = sender.getParameters().encodings.at(-1);  // the big layer (dual stream: small first)
    await window.engine.unsubscribeRemoteUser('native', ['camera']);
    return { gone, maxBitrate: params.maxBitrate, maxFramerate: params.maxFramerate };
  });
  assert.deepEqual(unsubscribed.gone, ['native/camera']);
  assert.equal(unsubscribed.maxBitrate, 500000);
  assert.equal(unsubscribed.maxFramerate, 15);
  await new Promise((r) => setTimeout(r, 1000));
  const first = await page.evaluate(inbound);
  await new Promise((r) => setTimeout(r, 2000));
  const second = await page.evaluate(inbound);
  const result = await native;
  assert.equal(result.status, 0, result.err);
  const widths = result.events.filter((e) => e.event === 'stats' && e.received?.web?.fps > 0).map((e) => e.received.web.width);
  console.log(`# native saw the browser's video at widths ${JSON.stringify(widths)}; browser video frames ${before.video?.frames} before unsubscribing, then ${first.video?.frames} -> ${second.video?.frames}; audio samples ${first.audio?.samples} -> ${second.audio?.samples}`);
  assert.ok(widths.includes(320), 'the configured size before publishing arrives');
  assert.equal(widths.at(-1), 480, 'the size set while publishing arrives');
  assert.ok(before.video?.frames > 20, 'the native camera was received');
  // The retired section's stream is gone from the statistics, or stands still.
  assert.equal(second.video?.frames ?? 0, first.video?.frames ?? 0, 'the unsubscribed camera stops');
  assert.ok(second.audio.samples - first.audio.samples > 48000, 'the audio goes on');
  });
});
