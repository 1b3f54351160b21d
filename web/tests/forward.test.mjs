// Two Chromium pages through parleyd: one publishes fake camera + microphone, the
// other subscribes (the server offers, the browser answers). The subscriber must
// decode a growing number of video frames and receive growing audio: real SFU
// forwarding with SSRC/sequence rewriting, SRTP per subscriber, and a keyframe
// request when the subscriber arrives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launchChromium, outDir } from './harness.mjs';

// Runs in the page: a minimal signalling client over the raw WebSocket protocol.
async function connect({ wsUrl, token }) {
  const ws = new WebSocket(wsUrl);
  await new Promise((res, rej) => { ws.onopen = res; ws.onerror = rej; });
  let nextId = 1;
  const waiting = new Map();
  window.__notes = [];
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === 'response' && waiting.has(m.id)) { waiting.get(m.id)(m); waiting.delete(m.id); } else window.__notes.push(m);
  };
  window.__request = (type, fields = {}) => new Promise((res) => {
    const id = nextId++;
    waiting.set(id, res);
    ws.send(JSON.stringify({ type, id, ...fields }));
  });
  const joined = await window.__request('join', { token, platform: 'h5' });
  if (joined.code !== 0) throw new Error(JSON.stringify(joined));
}

test('a subscriber decodes what a publisher sends through the SFU', { timeout: 60000 }, async () => {
  const server = await startServer();
  const browser = await launchChromium();
  try {
    const app = await server.admin('POST', '/v1/admin/apps', { name: 'web' });
    const token = async (user) => (await server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
      { channelId: 'fwd', userId: user, ttlSeconds: 600 })).token;
    const wsUrl = `ws://127.0.0.1:${server.port}/v1/signal`;

    const pub = await browser.newPage();
    await pub.goto(`${server.url}/healthz`);
    await pub.evaluate(connect, { wsUrl, token: await token("alice") });
    const pubResult = await pub.evaluate(async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
      const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
      for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      await pc.setLocalDescription(await pc.createOffer());
      const r = await window.__request('publish', { tracks: ['audio', 'camera'], sdp: pc.localDescription.sdp });
      if (r.code !== 0) return r;
      await pc.setRemoteDescription({ type: 'answer', sdp: r.data.sdp });
      window.__pc = pc;
      return { code: 0 };
    });
    assert.equal(pubResult.code, 0, JSON.stringify(pubResult));

    const sub = await browser.newPage();
    await sub.goto(`${server.url}/healthz`);
    await sub.evaluate(connect, { wsUrl, token: await token("bob") });
    const subResult = await sub.evaluate(async () => {
      const r = await window.__request('subscribe', { userId: 'alice' });
      if (r.code !== 0) return { error: r };
      const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
      const tracks = [];
      pc.ontrack = (e) => tracks.push({ kind: e.track.kind, stream: e.streams[0] && e.streams[0].id });
      await pc.setRemoteDescription({ type: 'offer', sdp: r.data.sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      const t0 = performance.now();
      const a = await window.__request('subscribeAnswer', { sdp: pc.localDescription.sdp });
      if (a.code !== 0) return { error: a };
      const video = document.createElement('video');
      video.autoplay = true;
      video.muted = true;
      document.body.appendChild(video);
      pc.ontrack = null;
      const receivers = pc.getReceivers();
      video.srcObject = new MediaStream(receivers.map((x) => x.track));
      window.__pc = pc;
      // Time to the first decoded frame (the keyframe asked for on subscribe).
      let firstFrameMs = null;
      for (let i = 0; i < 100 && firstFrameMs === null; i++) {
        const stats = await pc.getStats();
        stats.forEach((s) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0 && firstFrameMs === null) firstFrameMs = performance.now() - t0;
        });
        await new Promise((res) => setTimeout(res, 50));
      }
      return { tracks, firstFrameMs, state: pc.connectionState };
    });
    assert.ok(!subResult.error, JSON.stringify(subResult.error));
    console.log(`# subscriber: ${JSON.stringify(subResult)}`);
    assert.deepEqual(subResult.tracks.map((t) => t.kind).sort(), ['audio', 'video']);
    assert.ok(subResult.tracks.every((t) => t.stream === 'alice'), 'msid carries the publisher');
    assert.ok(subResult.firstFrameMs !== null, 'no video frame decoded within 5 s');

    // A kind with no packet yet has no inbound-rtp entry: count it as zero (the first
    // decoded video frame can come before the first audio packet).
    const sample = () => sub.evaluate(async () => {
      const out = { audio: { bytes: 0, packets: 0 }, video: { bytes: 0, packets: 0, frames: 0, width: 0 } };
      (await window.__pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp') out[s.kind] = { bytes: s.bytesReceived, packets: s.packetsReceived, frames: s.framesDecoded, lost: s.packetsLost, width: s.frameWidth };
      });
      return out;
    });
    const first = await sample();
    await new Promise((r) => setTimeout(r, 3000));
    const second = await sample();
    console.log(`# inbound: ${JSON.stringify(first)} -> ${JSON.stringify(second)}`);
    assert.ok(second.video.frames > first.video.frames + 20, 'video frames keep being decoded');
    assert.ok(second.audio.bytes > first.audio.bytes, 'audio keeps arriving');
    assert.ok(second.video.width > 0);
    await sub.screenshot({ path: join(outDir, 'subscriber.png') });
  } finally {
    await browser.close();
    await server.stop();
  }
});
