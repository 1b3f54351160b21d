// The latency probes work between every pair of clients (bench/latency_web.mjs times
// them; this checks only that each side reads the other's markers): two browsers, and a
// browser with a native client (bench/latency --peer: libparley publishing the same
// markers from external frames), each way, video and audio. No timing is judged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { builtPath, launchChromium, outDir, runJsonLines, withChannel } from './harness.mjs';
import { latencyParticipant } from './latency-probes.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Pages draw and read at full rate in the background too.
const chromiumArgs = ['--autoplay-policy=no-user-gesture-required', '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'];

test('the latency markers are read back between browsers and between a browser and a native client', { timeout: 120000 }, async () => {
  const latency = builtPath('PARLEY_LATENCY', 'bench', 'latency');
  assert.ok(latency, 'bench/latency not built; set PARLEY_LATENCY');
  // One browser each: a page that is not in front is neither drawn nor shown.
  await withChannel({ app: 'latency', channel: 'probe', chromium: { args: chromiumArgs } }, async ({ page, token, signal }) => {
    const other = await launchChromium({ args: chromiumArgs });
    try {
      await page.evaluate(latencyParticipant, { token: await token('web1'), user: 'web1' });
      const second = await other.newPage();
      await second.goto(page.url());
      await second.evaluate(latencyParticipant, { token: await token('web2'), user: 'web2' });
      const native = runJsonLines(latency, ['--peer', '--server', signal, '--token', await token('native'),
        '--channel', 'probe', '--user', 'native', '--seconds', '8']);
      await sleep(9000);
      const { status, events, err } = await native;
      assert.equal(status, 0, err);
      const got = await Promise.all([page, second].map((p) => p.evaluate(() => window.latency)));
      await page.screenshot({ path: join(outDir, 'latency-probes.png') });
      const count = (list, from) => list.filter((m) => m.from === from).length;
      const summary = (l) => ({ video: Object.fromEntries(['web1', 'web2', 'native'].map((u) => [u, count(l.video, u)])),
        audio: Object.fromEntries(['web1', 'web2', 'native'].map((u) => [u, count(l.audio, u)])) });
      console.log('markers read', JSON.stringify(got.map(summary)), 'native',
        JSON.stringify(['video', 'audio'].map((k) => events.filter((e) => e.event === k).length)));
      for (const [i, me] of [[0, 'web1'], [1, 'web2']]) {
        const them = me === 'web1' ? 'web2' : 'web1';
        assert.deepEqual(got[i].errors, [], `${me}: no errors`);
        assert.ok(count(got[i].video, them) >= 30, `${me} reads ${them}'s video markers: ${count(got[i].video, them)}`);
        assert.ok(count(got[i].audio, them) >= 3, `${me} hears ${them}'s bursts: ${count(got[i].audio, them)}`);
        assert.ok(count(got[i].video, 'native') >= 30, `${me} reads the native video markers: ${count(got[i].video, 'native')}`);
        assert.ok(count(got[i].audio, 'native') >= 3, `${me} hears the native bursts: ${count(got[i].audio, 'native')}`);
        assert.ok(got[i].phases.some((p) => p.phase === 'firstFrame'), `${me}: firstFrame reported`);
      }
      for (const web of ['web1', 'web2']) {
        const from = (kind) => events.filter((e) => e.event === kind && e.from === web).length;
        assert.ok(from('video') >= 30, `the native client reads ${web}'s video markers: ${from('video')}`);
        assert.ok(from('audio') >= 3, `the native client hears ${web}'s bursts: ${from('audio')}`);
      }
      assert.ok(events.some((e) => e.event === 'phase' && e.phase === 'firstFrame'), 'native: firstFrame reported');
    } finally {
      await other.close();
    }
  });
});
