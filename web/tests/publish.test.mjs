// Chromium publishes fake camera + microphone to parleyd over real WebRTC: ICE-lite,
// DTLS (server passive), SRTP, BUNDLE, rtcp-mux. The server must receive and decrypt
// a growing stream of RTP. Raw WebSocket + RTCPeerConnection here, so this checks the
// server's media plane on its own (parley.js gets its own tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchChromium, outDir } from './harness.mjs';
import { join } from 'node:path';

test('a browser publishes audio and video and the SFU decrypts it', { timeout: 60000 }, async () => {
  const server = await startServer();
  const browser = await launchChromium();
  try {
    const app = await server.admin('POST', '/v1/admin/apps', { name: 'web' });
    const tok = await server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
      { channelId: 'webroom', userId: 'chrome1', ttlSeconds: 600 });
    const page = await browser.newPage();
    await page.goto(`${server.url}/healthz`);
    const result = await page.evaluate(async ({ wsUrl, token }) => {
      const ws = new WebSocket(wsUrl);
      await new Promise((res, rej) => { ws.onopen = res; ws.onerror = rej; });
      let nextId = 1;
      const waiting = new Map();
      ws.onmessage = (e) => {
        const m = JSON.parse(e.data);
        if (m.type === 'response' && waiting.has(m.id)) { waiting.get(m.id)(m); waiting.delete(m.id); }
      };
      const request = (type, fields = {}) => new Promise((res) => {
        const id = nextId++;
        waiting.set(id, res);
        ws.send(JSON.stringify({ type, id, ...fields }));
      });
      const joined = await request('join', { token, platform: 'h5', userName: 'Chrome' });
      if (joined.code !== 0) return { error: joined };
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
      const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
      for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      const published = await request('publish', { tracks: ['audio', 'camera'], sdp: pc.localDescription.sdp });
      if (published.code !== 0) return { error: published };
      const t0 = performance.now();
      await pc.setRemoteDescription({ type: 'answer', sdp: published.data.sdp });
      await new Promise((res, rej) => {
        const check = () => {
          if (pc.connectionState === 'connected') res();
          else if (pc.connectionState === 'failed') rej(new Error('connection failed'));
        };
        pc.onconnectionstatechange = check;
        check();
        setTimeout(() => rej(new Error(`timeout, state ${pc.connectionState} ice ${pc.iceConnectionState}`)), 10000);
      });
      const connectMs = performance.now() - t0;
      await new Promise((r) => setTimeout(r, 1500));
      const stats = await pc.getStats();
      const out = {};
      stats.forEach((s) => {
        if (s.type === 'outbound-rtp') out[s.kind] = { packetsSent: s.packetsSent, bytesSent: s.bytesSent };
        if (s.type === 'transport') out.transport = { dtlsState: s.dtlsState, srtpCipher: s.srtpCipher };
      });
      window.__pc = pc;
      return { connectMs, out, answer: published.data.sdp };
    }, { wsUrl: `ws://127.0.0.1:${server.port}/v1/signal`, token: tok.token });
    assert.ok(!result.error, `signalling failed: ${JSON.stringify(result.error)}`);
    console.log(`# connected ${result.connectMs.toFixed(0)} ms after the answer; ${JSON.stringify(result.out)}`);
    assert.equal(result.out.transport.dtlsState, 'connected');
    assert.equal(result.out.transport.srtpCipher, 'SRTP_AEAD_AES_128_GCM');
    assert.ok(result.out.audio.packetsSent > 0 && result.out.video.packetsSent > 0);
    assert.match(result.answer, /a=ice-lite/);
    assert.match(result.answer, /a=setup:passive/);

    // The server decrypts the packets, and the count keeps growing.
    const mediaOf = async () => {
      const ch = await server.admin('GET', `/v1/admin/apps/${app.appId}/channels`);
      return ch.channels[0].users.find((u) => u.userId === 'chrome1').media;
    };
    const first = await mediaOf();
    await new Promise((r) => setTimeout(r, 2000));
    const second = await mediaOf();
    console.log(`# server: ${JSON.stringify(first)} -> ${JSON.stringify(second)}`);
    assert.equal(second.state, 'connected');
    assert.ok(first.rtpPackets > 50, `server received ${first.rtpPackets} RTP packets`);
    assert.ok(second.rtpPackets > first.rtpPackets + 50, 'RTP keeps arriving');
    assert.ok(second.rtpBytes > first.rtpBytes);
    await page.screenshot({ path: join(outDir, 'publish.png') });
  } finally {
    await browser.close();
    await server.stop();
  }
});
