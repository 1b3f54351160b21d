// A bad token gets the server's code, unchanged, in the browser — the same code per
// cause as the native CLI shows (docs/protocol.md, join rules): expired → 0x05040002,
// signed with another key → 0x02010205, not a token at all → 0x0F020004, a disabled
// app → 0x02010202. Checked through parley.js (the rejection and the joinResult and
// error events) and on the meeting page (the code and its advice on screen); with
// PARLEY_CLI (or a built CLI), `parley join` must print the same code for each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, launchChromium, outDir, parleyCliPath } from './harness.mjs';

mkdirSync(join(outDir, 'meeting'), { recursive: true });
const b64url = (s) => Buffer.from(s).toString('base64url');
function mintJwt(claims, key) {
  const head = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
}

const parleyCli = parleyCliPath;

// The first catalog code `parley join` prints for this token.
function cliCode(cli, signal, token) {
  return new Promise((resolve) => {
    const proc = spawn(cli, ['join', '--json', '--server', signal, '--token', token, '--duration', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15000);
    // 'close': after its output is read, not just after it exited.
    proc.on('close', () => { clearTimeout(timer); resolve((out.match(/0x[0-9A-F]{8}/i) || [null])[0]?.toUpperCase().replace('0X', '0x') || out); });
  });
}

test('a bad token is reported with the server\'s code, in parley.js, on the meeting page and in the CLI', { timeout: 120000 }, async (t) => {
  const server = await startServer();
  const browser = await launchChromium();
  try {
    const app = await server.admin('POST', '/v1/admin/apps', { name: 'badtokens' });
    const off = await server.admin('POST', '/v1/admin/apps', { name: 'disabled' });
    await server.admin('POST', `/v1/admin/apps/${off.appId}/disable`);
    const now = Math.floor(Date.now() / 1000);
    const claims = (appId, user, exp) => ({ appId, channelId: 'gate', userId: user, exp });
    const cases = [
      { why: 'expired', token: mintJwt(claims(app.appId, 'u1', now - 60), app.appKey), hex: '0x05040002', detail: '0x0F050001' },
      { why: 'wrong signature', token: mintJwt(claims(app.appId, 'u2', now + 600), 'not-the-app-key'), hex: '0x02010205', detail: '0x0F050003' },
      { why: 'garbage', token: 'this-is-not-a-token', hex: '0x0F020004' },
      { why: 'disabled app', token: mintJwt(claims(off.appId, 'u3', now + 600), off.appKey), hex: '0x02010202' },
    ];
    const page = await browser.newPage();
    await page.goto(`${server.url}/demo/`);
    for (const c of cases) {
      const got = await page.evaluate(async (token) => {
        const { createEngine } = await import('/sdk/parley.js');
        const engine = createEngine();
        const seen = [];
        engine.on('joinResult', (r) => seen.push(['joinResult', r.hex]));
        engine.on('error', (e) => seen.push(['error', e.hex]));
        try { await engine.joinChannel(token, 'x'); return { hex: 'joined' }; } catch (e) {
          await new Promise((r) => setTimeout(r, 300));  // anything emitted after the refusal
          engine.destroy();
          return { hex: e.hex, detail: e.detailHex, advice: e.advice, seen };
        }
      }, c.token);
      console.log(`# ${c.why}: parley.js ${got.hex} ${JSON.stringify(got.seen)}`);
      assert.equal(got.hex, c.hex, `${c.why}: the rejection carries the server's code`);
      assert.ok(got.advice, `${c.why}: with advice`);
      // The cause under a code that covers several: the same detail code as the CLI prints.
      assert.equal(got.detail, c.detail, `${c.why}: the detail code`);
      assert.deepEqual(got.seen.filter(([, h]) => h !== c.hex), [], `${c.why}: no other code reported`);
    }

    // The meeting page opened by such a link shows the code and the advice.
    for (const c of cases) {
      const p = await browser.newPage();
      await p.goto(`${server.url}/demo/#${new URLSearchParams({ token: c.token })}`);
      await p.locator('#state', { hasText: 'call failed' }).waitFor({ timeout: 10000 });
      assert.equal(await p.locator('#error').getAttribute('data-code'), c.hex, `${c.why} on the page`);
      assert.match(await p.locator('#error').textContent(), /What to do: /);
      if (c.why === 'expired') {
        assert.match(await p.locator('#tokenInfo').textContent(), /token expired/);
        await p.screenshot({ path: join(outDir, 'meeting', 'expired-token-1280x720.png') });
      }
      await p.close();
    }

    // The native CLI against the same server: the same code per cause (libparley, which
    // checks a token before sending it, must refuse garbage with the server's 0x0F020004).
    const cli = parleyCli();
    const signal = `ws://127.0.0.1:${server.port}/v1/signal`;
    for (const c of cases) {
      await t.test(`the CLI shows ${c.hex} for ${c.why}`, {
        skip: !cli && 'no parley CLI',
      }, async () => {
        const code = await cliCode(cli, signal, c.token);
        console.log(`# ${c.why}: CLI ${code}`);
        assert.equal(code, c.hex);
      });
    }
  } finally {
    await browser.close();
    await server.stop();
  }
});
