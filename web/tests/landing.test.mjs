// The landing page at / (web/index.html): links to the meeting page, the console and
// the SDK (each of which answers), the docs' names, and this server's signalling URL
// computed from the page's address. Screenshots at 1280x800 and 390x844.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launchChromium, outDir } from './harness.mjs';

test('the landing page links the meeting page, console and SDK and shows the signalling URL', { timeout: 60000 }, async () => {
  const server = await startServer();
  const browser = await launchChromium();
  try {
    const res = await fetch(`${server.url}/`);
    assert.equal(res.status, 200, 'GET / serves web/index.html');
    assert.match(res.headers.get('content-type') || '', /text\/html/);

    const page = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    const external = [];
    page.on('request', (r) => { if (!r.url().startsWith(server.url)) external.push(r.url()); });
    await page.goto(`${server.url}/`);
    assert.equal(await page.locator('#signalUrl').textContent(), `ws://127.0.0.1:${server.port}/v1/signal`);
    for (const [name, path] of [['Meeting', '/demo/'], ['Console', '/console/'], ['parley.js', '/sdk/parley.js']]) {
      const link = page.getByRole('link', { name: new RegExp(`^${name.replace('.', '\\.')}`) });
      assert.equal(await link.getAttribute('href'), path);
      assert.equal((await fetch(server.url + path)).status, 200, `${path} answers`);
    }
    const text = await page.locator('body').innerText();
    for (const doc of ['protocol.md', 'token.md', 'errors.md', 'architecture.md']) assert.ok(text.includes(doc), doc);
    await page.screenshot({ path: join(outDir, 'landing-1280x800.png') });

    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling at 390 px (${overflow})`);
    await page.screenshot({ path: join(outDir, 'landing-390x844.png'), fullPage: true });

    await page.getByRole('link', { name: /^Meeting/ }).click();
    await page.waitForURL(`${server.url}/demo/`);
    assert.equal(await page.locator('#state').textContent(), 'not in a call');
    assert.deepEqual(external, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});
