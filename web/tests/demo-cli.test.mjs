// `parley demo` end to end with a browser (issue #18, item 1): the CLI runs its own
// server and two native participants and prints a browserUrl (the meeting page with a
// guest token, /demo/#token=<access token>); Chromium opens that URL as it is, joins
// by itself and decodes both native participants' video (videoWidth > 0, currentTime
// advancing, framesDecoded growing). Needs PARLEY_CLI (or a built CLI). The page comes
// from the web root beside the CLI binary, i.e. that build's copy of web/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { launchChromium, outDir, parleyCliPath } from './harness.mjs';

mkdirSync(join(outDir, 'meeting'), { recursive: true });
const parleyCli = parleyCliPath;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('the browser URL printed by `parley demo` joins and shows the native participants', { timeout: 90000, skip: !parleyCli() && 'no parley CLI' }, async () => {
  const proc = spawn(parleyCli(), ['demo', '--json', '--duration', '25', '--participants', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((res) => proc.once('exit', res));
  const lines = createInterface({ input: proc.stdout });
  const events = [];
  const started = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "started" line from parley demo; stderr: ${stderr}`)), 20000);
    lines.on('line', (l) => {
      let j;
      try { j = JSON.parse(l); } catch { return; }
      events.push(j);
      if (j.event === 'started') { clearTimeout(timer); resolve(j); }
    });
    proc.once('exit', (code) => reject(new Error(`parley demo exited (${code}) before starting; stderr: ${stderr}`)));
  });
  const browser = await launchChromium();
  try {
    console.log(`# browserUrl ${started.browserUrl}`);
    const url = new URL(started.browserUrl);
    assert.equal(url.hostname, '127.0.0.1');
    assert.equal(url.pathname, '/demo/');
    const fragment = new URLSearchParams(url.hash.slice(1));
    assert.equal(fragment.get('token')?.split('.').length, 3, 'an access token in the fragment (#token=<jwt>)');

    const page = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(started.browserUrl);
    const probe = () => page.evaluate(async () => {
      const tiles = {};
      for (const tile of document.querySelectorAll('.tile[data-user]')) {
        const v = tile.querySelector('video');
        if (v) tiles[tile.dataset.user] = { width: v.videoWidth, time: v.currentTime };
      }
      let frames = 0;
      const pc = window.parleyEngine?.subscribePc;
      if (pc) (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0; });
      return { inCall: !!window.parleyEngine?.isInCall(), error: document.querySelector('#error')?.textContent || '', tiles, frames };
    });
    let first;
    for (let i = 0; i < 150; i++) {
      first = await probe();
      const playing = Object.values(first.tiles).filter((t) => t.width > 0);
      if (first.inCall && playing.length >= 2) break;
      if (first.error.includes('0x')) break;
      await sleep(100);
    }
    console.log(`# first look ${JSON.stringify(first)}`);
    assert.equal(first.error.trim(), '', 'no error on the page');
    assert.ok(first.inCall, 'the browser joined');
    const natives = Object.keys(first.tiles).filter((u) => first.tiles[u].width > 0);
    assert.ok(natives.length >= 2, `two native participants' video (${JSON.stringify(first.tiles)})`);
    await sleep(2000);
    const second = await probe();
    for (const u of natives) assert.ok(second.tiles[u].time > first.tiles[u].time + 1, `${u}'s video plays`);
    assert.ok(second.frames > first.frames + 20, `frames keep being decoded (${first.frames} → ${second.frames})`);
    await page.screenshot({ path: join(outDir, 'meeting', 'parley-demo-1280x800.png') });
  } finally {
    await browser.close();
    proc.kill('SIGINT');
    await Promise.race([exited, sleep(10000).then(() => proc.kill('SIGKILL'))]);
  }
});
