// parley.js devices in Chromium: the browser's devices listed, and the system's devices
// coming and going told as deviceStateChanged; when the microphone being published
// goes, 0x01040409 and the default takes over on the same sender (the server keeps
// receiving audio). Headless Chromium cannot plug or pull a device: the page gives
// the browser's own list, with a headset added and then with the microphone in use
// taken out, as what enumerateDevices answers when 'devicechange' fires on the real
// navigator.mediaDevices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchChromium } from './harness.mjs';

test('devices coming and going are told and a lost microphone falls back to the default', { timeout: 60000 }, async () => {
  const server = await startServer();
  const browser = await launchChromium();
  try {
    const app = await server.admin('POST', '/v1/admin/apps', { name: 'devices' });
    const tok = await server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
      { channelId: 'plugs', userId: 'dev', ttlSeconds: 600 });
    const page = await browser.newPage();
    await page.goto(`${server.url}/healthz`);
    const r = await page.evaluate(async ({ token }) => {
      const { createEngine } = await import('/sdk/parley.js');
      const engine = createEngine();
      const events = [];
      for (const ev of ['deviceStateChanged', 'error', 'localDeviceChanged'])
        engine.on(ev, (p) => events.push({ ev, kind: p.kind, deviceId: p.deviceId, label: p.label, state: p.state, hex: p.hex }));
      const until = async (pred) => {
        for (let i = 0; i < 100 && !pred(); i++) await new Promise((res) => setTimeout(res, 50));
        return pred();
      };
      const sent = async () => {
        let n = 0;
        (await engine.publishPc.getStats()).forEach((s) => { if (s.type === 'outbound-rtp' && s.kind === 'audio') n = s.packetsSent; });
        return n;
      };
      await engine.joinChannel(token, 'Dev');
      await engine.publishLocalAudioStream(true);
      const listed = await engine.enumerateDevices();
      const used = engine.getLocalStream().getAudioTracks()[0].getSettings().deviceId;
      const real = await navigator.mediaDevices.enumerateDevices();
      const headset = { deviceId: 'usb-headset', kind: 'audioinput', label: 'USB Headset', groupId: 'h' };
      navigator.mediaDevices.enumerateDevices = async () => [...real, headset];
      navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
      const added = await until(() => events.some((e) => e.state === 'added'));
      const before = await sent();
      navigator.mediaDevices.enumerateDevices = async () => real.filter((d) => !(d.kind === 'audioinput' && d.deviceId === used));
      navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
      const fellBack = await until(() => events.some((e) => e.ev === 'localDeviceChanged'));
      await new Promise((res) => setTimeout(res, 1500));
      const after = await sent();
      const track = engine.getLocalStream().getAudioTracks()[0];
      const senderTrack = engine.publishPc.getSenders().find((s) => s.track?.kind === 'audio')?.track;
      return { listed, used, added, fellBack, before, after, events, live: track.readyState, same: senderTrack === track };
    }, { token: tok.token });
    console.log(`microphones ${r.listed.microphones.length}, cameras ${r.listed.cameras.length}, in use ${r.used}; ` +
      `audio packets ${r.before} then ${r.after}; events ${JSON.stringify(r.events)}`);
    assert.ok(r.listed.microphones.length >= 1 && r.listed.cameras.length >= 1, 'the fake devices are listed');
    assert.ok(r.added, 'the headset was not told');
    const { ev, kind, deviceId, label, state } = r.events[0];
    assert.deepEqual({ ev, kind, deviceId, label, state }, { ev: 'deviceStateChanged', kind: 'microphone', deviceId: 'usb-headset', label: 'USB Headset', state: 'added' });
    const removed = r.events.filter((e) => e.state === 'removed');
    assert.ok(removed.some((e) => e.kind === 'microphone' && e.deviceId === r.used), 'the microphone in use was not told removed');
    assert.ok(removed.some((e) => e.kind === 'microphone' && e.deviceId === 'usb-headset'), 'the headset went too');
    assert.ok(r.events.some((e) => e.ev === 'error' && e.hex === '0x01040409'), 'no 0x01040409');
    assert.ok(r.fellBack, 'no fallback to the default');
    assert.equal(r.live, 'live');
    assert.ok(r.same, 'the sender carries the new track');
    assert.ok(r.after > r.before + 20, `audio did not go on (${r.before} then ${r.after})`);
  } finally {
    await browser.close();
    await server.stop();
  }
});
