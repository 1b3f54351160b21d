// Unit tests of the browser SDK's audio profiles (audio-profile.js): the settings of
// each profile, the capture constraints, and the Opus parameters written into the
// SDP the server is told, the answer the browser applies and the subscribe answer.
// The Chromium test in native.test.mjs sends and receives stereo with a native client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AudioProfile, AudioScenario, audioSettings, audioConstraints, withOpusParams, offerForServer,
  answerForBrowser, stereoAnswer } from '../sdk/audio-profile.js';
import { createEngine, ParleyError } from '../sdk/parley.js';
import { ErrorCode } from '../sdk/errors.js';

const section = (pt, fmtp) => `m=audio 9 UDP/TLS/RTP/SAVPF ${pt} 63\r\na=mid:0\r\na=rtpmap:${pt} opus/48000/2\r\n` +
  (fmtp === null ? '' : `a=fmtp:${pt} ${fmtp}\r\n`) + 'a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n';

test('audio profiles: ARTC\'s numbers, their channels and bitrates; anything else is refused', async () => {
  assert.deepEqual(audioSettings(AudioProfile.HIGH_QUALITY, AudioScenario.SPEECH),
    { channels: 1, bitrate: 32000, maxPlaybackRate: 48000, music: false });
  assert.equal(audioSettings(AudioProfile.LOW_QUALITY, AudioScenario.SPEECH).maxPlaybackRate, 8000);
  assert.equal(audioSettings(AudioProfile.STEREO_SUPER_HIGH_QUALITY, AudioScenario.MUSIC).bitrate, 128000);
  assert.equal(audioSettings(AudioProfile.STEREO_HIGH_QUALITY, AudioScenario.MUSIC).channels, 2);
  assert.equal(AudioProfile.STEREO_SUPER_HIGH_QUALITY, 5);
  for (const [p, s] of [[6, 0], [-1, 0], ['2', 0], [2, 2], [2, undefined], [1.5, 0]]) assert.equal(audioSettings(p, s), null);
  const engine = createEngine({ server: 'http://127.0.0.1:9' });
  await assert.rejects(engine.setAudioProfile(7, AudioScenario.SPEECH),
    (e) => e instanceof ParleyError && e.code === ErrorCode.PUBLISH_CONFIG_INVALID);
  await engine.setAudioProfile(AudioProfile.STEREO_HIGH_QUALITY, AudioScenario.MUSIC);  // not in a call: kept
  assert.equal(engine.audio.channels, 2);
  assert.deepEqual(engine.mediaConstraints('audio'),
    { channelCount: 2, echoCancellation: false, noiseSuppression: false, autoGainControl: false });
});

test('capture: stereo turns echo cancellation off, music noise suppression and gain control', () => {
  assert.deepEqual(audioConstraints(audioSettings(2, 0), 'mic1'),
    { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true, deviceId: { exact: 'mic1' } });
  assert.deepEqual(audioConstraints(audioSettings(4, 1)),
    { channelCount: 1, echoCancellation: true, noiseSuppression: false, autoGainControl: false });
});

test('sdp: Opus parameters are set on Opus formats only, kept ones stay, a missing fmtp line is added', () => {
  const set = withOpusParams(section(111, 'minptime=10;useinbandfec=1'), { stereo: 1, usedtx: 0 });
  assert.match(set, /^a=fmtp:111 minptime=10;useinbandfec=1;stereo=1;usedtx=0\r$/m);
  assert.match(set, /^a=fmtp:63 111\/111\r$/m, 'RED is left alone');
  const added = withOpusParams(section(109, null), { 'sprop-stereo': 1 });
  assert.match(added, /a=rtpmap:109 opus\/48000\/2\r\na=fmtp:109 sprop-stereo=1\r\n/);
  const replaced = withOpusParams(section(111, 'stereo=0;usedtx=1'), { stereo: 1 });
  assert.match(replaced, /^a=fmtp:111 stereo=1;usedtx=1\r$/m);
  assert.equal(withOpusParams('m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n', { stereo: 1 }),
    'm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n');
});

test('sdp: the server hears of stereo, the browser applies the profile\'s bitrate, and decodes stereo it is offered', () => {
  const mono = audioSettings(AudioProfile.BASIC_QUALITY, AudioScenario.SPEECH);
  const stereo = audioSettings(AudioProfile.STEREO_HIGH_QUALITY, AudioScenario.MUSIC);
  const offer = section(111, 'minptime=10;useinbandfec=1');
  assert.equal(offerForServer(offer, mono), offer);
  assert.match(offerForServer(offer, stereo), /a=fmtp:111 minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1/);
  const answer = section(111, 'minptime=10;useinbandfec=1;usedtx=1');
  assert.match(answerForBrowser(answer, mono), /a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1;maxaveragebitrate=24000;maxplaybackrate=16000;stereo=0/);
  assert.match(answerForBrowser(answer, stereo), /usedtx=0;maxaveragebitrate=64000;maxplaybackrate=48000;stereo=1/);
  // Subscribe: the stereo section (sprop-stereo=1, its own payload type) is answered stereo=1, the mono one not.
  const subOffer = section(111, 'minptime=10;useinbandfec=1;sprop-stereo=0') + section(110, 'minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1');
  const subAnswer = section(111, 'minptime=10;useinbandfec=1') + section(110, 'minptime=10;useinbandfec=1');
  const out = stereoAnswer(subOffer, subAnswer);
  assert.match(out, /^a=fmtp:110 minptime=10;useinbandfec=1;stereo=1\r$/m);
  assert.match(out, /^a=fmtp:111 minptime=10;useinbandfec=1\r$/m);
  assert.equal(stereoAnswer(subOffer, out), out, 'asked once');
  assert.match(stereoAnswer(subOffer, section(110, null)), /a=rtpmap:110 opus\/48000\/2\r\na=fmtp:110 stereo=1\r\n/);
});
