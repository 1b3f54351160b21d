// bench/latency's figures for the pairs with a browser: audio mouth-to-ear and video
// glass-to-glass from Chromium to Chromium, from a native client (bench/latency --peer)
// to Chromium and back, and Chromium's first remote frame (a late joiner, and two who
// join together) with its startup phases. The markers are web/tests/latency-probes.mjs's
// and bench/latency_probe.hpp's, timed on the machine's one wall clock; the browser
// times video when the frame is due on screen (requestVideoFrameCallback) and audio
// when its context plays it. p50/p95 over the markers and runs. Needs root (a network
// namespace), a built parleyd and bench/latency:
//   unshare -n sh -c 'ip link set lo up && node bench/latency_web.mjs [--seconds 30] [--runs 10]'
import { builtPath, launchChromium, runJsonLines, startServer } from '../web/tests/harness.mjs';
import { latencyParticipant } from '../web/tests/latency-probes.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : dflt; };
const seconds = opt('--seconds', 30), runs = opt('--runs', 10), warmup = 3;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const latency = builtPath('PARLEY_LATENCY', 'bench', 'latency');
if (!latency) throw new Error('bench/latency not built; set PARLEY_LATENCY');

function pct(v, p) {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.round(p * (s.length - 1)))] : 0;
}
const line = (what, v, digits = 1) => console.log(
  `${what}: p50 ${pct(v, 0.5).toFixed(digits)} ms  p95 ${pct(v, 0.95).toFixed(digits)} ms  (n=${v.length})`);

const server = await startServer();
// A browser per participant: a page that is not in front is neither drawn nor shown.
const chromium = { args: ['--autoplay-policy=no-user-gesture-required', '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'] };
const browsers = [await launchChromium(chromium), await launchChromium(chromium)];
const app = await server.admin('POST', '/v1/admin/apps', { name: 'latency' });
const token = async (channelId, userId) => (await server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
  { channelId, userId, ttlSeconds: 3600 })).token;
const signal = `ws://127.0.0.1:${server.port}/v1/signal`;
const page = async (i) => { const p = await browsers[i].newPage(); await p.goto(`${server.url}/demo/`); return p; };
const join = async (p, channel, user) => p.evaluate(latencyParticipant, { token: await token(channel, user), user });
const markers = (p) => p.evaluate(() => window.latency);
// Where the receiving page's audio time goes: Chromium's jitter buffer (NetEq) delay per
// sample emitted, and the playing context's own base + output latency.
const audioParts = (p) => p.evaluate(async () => {
  let delay = 0, emitted = 0;
  (await window.engine.subscribePc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') { delay += s.jitterBufferDelay || 0; emitted += s.jitterBufferEmittedCount || 0; }
  });
  return { jitterBufferMs: emitted ? (1000 * delay) / emitted : 0, contextMs: window.latency.playoutLatencyMs?.() || 0 };
});
const parts = (x) => `  (of which Chromium's jitter buffer ${x.jitterBufferMs.toFixed(1)} ms, the playing context ${x.contextMs.toFixed(1)} ms)`;
const forget = (p) => p.evaluate(() => { window.latency.video.length = 0; window.latency.audio.length = 0; });

try {
  // Browser -> browser.
  {
    const [a, b] = [await page(0), await page(1)];
    await join(a, 'b2b', 'a');
    await join(b, 'b2b', 'b');
    await sleep(warmup * 1000);
    await forget(b);
    await sleep(seconds * 1000);
    const got = await markers(b);
    line('browser -> browser, audio mouth-to-ear (capture -> played by the page\'s audio context)', got.audio.map((m) => m.ms));
    console.log(parts(await audioParts(b)));
    line('browser -> browser, video glass-to-glass (capture -> frame due on screen)', got.video.map((m) => m.ms));
    await a.close();
    await b.close();
  }
  // Native <-> browser, both ways in one call.
  {
    const w = await page(0);
    await join(w, 'n2b', 'web');
    const native = runJsonLines(latency, ['--peer', '--server', signal, '--token', await token('n2b', 'native'),
      '--channel', 'n2b', '--user', 'native', '--seconds', String(seconds + warmup), '--warmup', String(warmup)]);
    await sleep(warmup * 1000);
    await forget(w);
    const { events } = await native;
    const got = await markers(w);
    const from = (list, who) => list.filter((m) => m.from === who).map((m) => m.ms);
    line('native -> browser, audio mouth-to-ear', from(got.audio, 'native'));
    console.log(parts(await audioParts(w)));
    line('native -> browser, video glass-to-glass', from(got.video, 'native'));
    line('browser -> native, audio mouth-to-ear (-> decoded audio handed to playout)',
      events.filter((e) => e.event === 'audio').map((e) => e.ms));
    line('browser -> native, video glass-to-glass (-> decoded frame handed to the renderer)',
      events.filter((e) => e.event === 'video').map((e) => e.ms));
    await w.close();
  }
  // The browser's first remote frame: a late joiner (the other publishing for 1.5 s),
  // and two who join together; ms since joinChannel began (the engine's startupPhase).
  for (const together of [false, true]) {
    const frames = [], phases = {};
    let missing = 0;
    for (let i = 0; i < runs; i++) {
      const channel = `${together ? 'together' : 'late'}${i}`;
      const [a, b] = [await page(0), await page(1)];
      const joined = [join(a, channel, 'a')];
      if (!together) { await joined[0]; await sleep(1500); }
      joined.push(join(b, channel, 'b'));
      await Promise.all(joined);
      const timed = together ? [a, b] : [b];
      await sleep(3000);
      for (const p of timed) {
        const got = await markers(p);
        const first = got.phases.find((x) => x.phase === 'firstFrame');
        if (!first) { missing++; continue; }
        frames.push(first.ms);
        for (const x of got.phases) (phases[x.phase] ||= []).push(x.ms);
      }
      await a.close();
      await b.close();
    }
    line(`browser, first remote frame, ${together ? 'both join together' : 'late joiner (the other publishing)'}` +
      (missing ? ` — ${missing} never came` : ''), frames, 0);
    console.log(`  phases (ms since joinChannel, p50 / p95): ${Object.entries(phases)
      .sort((x, y) => pct(x[1], 0.5) - pct(y[1], 0.5))
      .map(([k, v]) => `${k} ${pct(v, 0.5).toFixed(0)} / ${pct(v, 0.95).toFixed(0)}`).join('; ')}`);
  }
} finally {
  for (const b of browsers) await b.close();
  await server.stop();
}
