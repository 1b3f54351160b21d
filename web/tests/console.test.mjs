// The operator console (/console/) end to end in Chromium through parleyd: sign in with
// the admin key, create an app (its AppKey shown once), disable it so a join through
// the meeting page (opened from the console's token form, /demo/#token=...) fails with 0x02010202, enable it
// so the join succeeds, watch the user and its bitrate in the Live view, kick the user
// (the SDK gets sessionRemoved 0x02010105), then rotate the key, set the balance and
// delete the app. Admin API errors must show their catalog code and advice.
// Screenshots at 1280x800 and 390x844 go to build/web-test-output/console/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { startServer, launchChromium, outDir, adminKey } from './harness.mjs';

const shots = join(outDir, 'console');
mkdirSync(shots, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `probe` until it returns something truthy; fails with `what` after `ms`.
async function until(what, probe, ms = 10000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const text = async (locator) => ((await locator.count()) ? (await locator.first().textContent()) || '' : '');

test('the console manages apps, tokens and live channels', { timeout: 150000 }, async () => {
  const server = await startServer();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    const external = [];
    page.on('request', (r) => { if (!r.url().startsWith(server.url)) external.push(r.url()); });
    await page.goto(`${server.url}/console/`);

    // A wrong key: the error shows its catalog code and advice, and nothing is kept.
    await page.getByLabel('Admin key').fill('not-the-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const error = page.locator('#errors .error');
    await error.waitFor();
    assert.match(await error.textContent(), /0x0F030001/);
    assert.match(await error.textContent(), /Use the right admin key/);
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);

    // The right key, typed and sent with Enter: signed in, key in sessionStorage only.
    await page.getByLabel('Admin key').fill(adminKey);
    await page.getByLabel('Admin key').press('Enter');
    await page.getByRole('tab', { name: 'Apps' }).waitFor();
    assert.equal(await error.count(), 0, 'a successful sign-in clears the error');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('parley.console.adminKey')), adminKey);
    assert.equal(await page.evaluate(() => localStorage.length), 0);

    // Create an app; its AppId and AppKey are shown once, with copy buttons.
    await page.getByLabel('New app name').fill('console-e2e');
    await page.getByRole('button', { name: 'Create app' }).click();
    const secret = page.locator('#secret');
    await secret.waitFor();
    const appId = (await page.locator('#secretAppId').textContent()).trim();
    const appKey = (await page.locator('#secretAppKey').textContent()).trim();
    assert.match(appId, /^[A-Za-z0-9_-]{1,64}$/);
    const stored = await server.admin('GET', `/v1/admin/apps/${appId}`);
    assert.equal(stored.appKey, appKey, 'the key shown is the app key');
    assert.equal(stored.name, 'console-e2e');
    await secret.getByRole('button', { name: 'Copy AppId' }).waitFor();
    await secret.getByRole('button', { name: 'Copy AppKey' }).click();
    await until('the copy to be announced', async () => /AppKey copied/.test(await text(page.locator('#status'))));
    const row = page.locator(`#appsBody tr[data-app-id="${appId}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /console-e2e/);
    assert.match(await row.textContent(), /enabled/);
    await page.screenshot({ path: join(shots, 'apps-created-1280x800.png') });
    await secret.getByRole('button', { name: /hide it/ }).click();
    assert.ok(!(await page.locator('body').innerText()).includes(appKey), 'the key is not shown again');

    // The session survives a reload (sessionStorage) and lands on the same view.
    await page.reload();
    await row.waitFor();

    // Disable it through the UI.
    await row.getByRole('button', { name: 'Disable console-e2e' }).click();
    await until('the app to show as disabled', async () => /disabled/.test(await row.textContent()));
    assert.equal((await server.admin('GET', `/v1/admin/apps/${appId}`)).enabled, false);

    // Mint a token with the console's form (reached from the app's row), for alice in "ops".
    await row.getByRole('button', { name: 'Mint token console-e2e' }).click();
    assert.equal(await page.getByRole('tab', { name: 'Tokens' }).getAttribute('aria-selected'), 'true');
    assert.equal(await page.locator('#panel-tokens').getByLabel('App', { exact: true }).inputValue(), appId);
    await page.getByLabel('Channel', { exact: true }).fill('ops');
    await page.getByLabel('User', { exact: true }).fill('alice');
    await page.getByLabel('Amount').fill('2');
    await page.getByLabel('Unit').selectOption({ label: 'hours' });
    await page.getByRole('button', { name: 'Mint token', exact: true }).click();
    const link = page.getByRole('link', { name: 'Open the demo with this token' });
    await link.waitFor();
    const token = (await page.locator('#tokenClassic').textContent()).trim();
    const href = new URL(await link.getAttribute('href'), server.url);
    assert.equal(href.pathname, '/demo/');
    assert.equal(href.search, '', 'the token is not in the query (it would reach the server\'s logs)');
    const q = new URLSearchParams(href.hash.slice(1));
    assert.equal(q.get('token'), token, 'the link carries the token in its fragment');
    assert.equal(q.get('join'), null, 'and joins at once');
    // An access token: a JWT whose signed claims name the app, channel, user and expiry.
    const parts = token.split('.');
    assert.equal(parts.length, 3, 'an access token (JWT)');
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    assert.equal(claims.appId, appId);
    assert.equal(claims.channelId, 'ops');
    assert.equal(claims.userId, 'alice');
    const ttl = claims.exp - Date.now() / 1000;
    assert.ok(ttl > 7100 && ttl <= 7201, `expires in two hours (${ttl} s)`);
    await page.screenshot({ path: join(shots, 'token-1280x800.png') });

    // The demo page opened from the link joins at once: refused, the app is disabled.
    const openDemo = async () => {
      const [demo] = await Promise.all([browser.context.waitForEvent('page'), link.click()]);
      await demo.waitForLoadState();
      return demo;
    };
    const refused = await openDemo();
    const refusal = await until('the refused join', async () => {
      const t = await text(refused.locator('#error'));
      return t.includes('0x') && t;
    });
    assert.match(refusal, /0x02010202/);
    await refused.close();

    // Enable it through the UI; the same link now joins.
    await page.getByRole('tab', { name: 'Apps' }).click();
    await row.getByRole('button', { name: 'Enable console-e2e' }).click();
    await until('the app to show as enabled', async () => /enabled/.test(await row.textContent()));
    await page.getByRole('tab', { name: 'Tokens' }).click();
    const alice = await openDemo();
    await until('alice to join', async () => (await text(alice.locator('#state'))) === 'in call', 15000);
    assert.equal(await text(alice.locator('#error')), '');
    await alice.evaluate(() => {
      window.removed = [];
      window.parleyEngine.on('sessionRemoved', (e) => window.removed.push(e));
    });
    // A second user (token from the admin API) so that the kick has someone to spare.
    const bobToken = (await server.admin('POST', `/v1/admin/apps/${appId}/tokens`,
      { channelId: 'ops', userId: 'bob', ttlSeconds: 600 })).token;
    const bob = await browser.newPage();
    await bob.goto(`${server.url}/demo/?${new URLSearchParams({ token: bobToken, userId: 'bob', join: '1' })}`);
    await until('bob to join', async () => (await text(bob.locator('#state'))) === 'in call', 15000);

    // Live: both users in "ops", alice's published tracks and a bitrate from rtpBytes.
    await page.getByRole('tab', { name: 'Live' }).click();
    await page.getByLabel('Refresh', { exact: true }).selectOption({ label: 'every 2 s' });
    const channel = page.locator(`#channels article[data-app-id="${appId}"][data-channel-id="ops"]`);
    const aliceRow = channel.locator('tr[data-user-id="alice"]');
    await aliceRow.waitFor({ timeout: 10000 });
    const kbps = await until('alice\'s bitrate', async () => {
      const cell = aliceRow.locator('td[data-label="Bitrate"]');
      const v = Number(await cell.getAttribute('data-kbps'));
      const tracks = await text(aliceRow.locator('td[data-label="Tracks"]'));
      return v > 0 && /audio/.test(tracks) && /camera/.test(tracks) && v;
    }, 25000);
    console.log(`# alice publishes at ${kbps.toFixed(0)} kbps as the console computes it`);
    assert.match(await aliceRow.textContent(), /broadcaster/);
    // How alice's media reaches the server: UDP here (ICE-TCP where UDP is blocked).
    assert.match(await text(aliceRow.locator('td[data-label="Media"]')), /^connected over UDP, [\d,]+ packets$/);
    await channel.locator('tr[data-user-id="bob"]').waitFor();
    await page.screenshot({ path: join(shots, 'live-1280x800.png') });

    // A narrow screen: the same views, stacked.
    await page.setViewportSize({ width: 390, height: 844 });
    await sleep(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling at 390 px (overflow ${overflow} px)`);
    await page.screenshot({ path: join(shots, 'live-390x844.png'), fullPage: true });
    await page.getByRole('tab', { name: 'Apps' }).click();
    await page.screenshot({ path: join(shots, 'apps-390x844.png'), fullPage: true });
    await page.getByRole('tab', { name: 'Tokens' }).click();
    await page.screenshot({ path: join(shots, 'token-390x844.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });

    // Tabs follow the arrow keys.
    await page.getByRole('tab', { name: 'Tokens' }).press('ArrowRight');
    assert.equal(await page.getByRole('tab', { name: 'Live' }).getAttribute('aria-selected'), 'true');

    // Kick alice through the UI (with a confirmation); her SDK is told, bob stays.
    await aliceRow.getByRole('button', { name: 'Kick alice from ops' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Kick user' }).click();
    const removed = await until('alice\'s sessionRemoved', async () => (await alice.evaluate(() => window.removed))[0]);
    assert.equal(removed.code, 0x02010105);
    assert.equal(removed.reason, 'kicked');
    assert.match(await text(alice.locator('#error')), /0x02010105/);
    await until('alice to leave the live view', async () => (await aliceRow.count()) === 0);
    assert.equal(await channel.locator('tr[data-user-id="bob"]').count(), 1);
    await bob.close();
    await alice.close();

    // An admin API error through the UI: a TTL over the server's limit gets 0x0F030003 and advice.
    await page.getByRole('tab', { name: 'Tokens' }).click();
    await page.getByLabel('Amount').fill('400');
    await page.getByLabel('Unit').selectOption({ label: 'days' });
    await page.getByRole('button', { name: 'Mint token', exact: true }).click();
    await error.waitFor();
    assert.match(await error.textContent(), /0x0F030003/);
    assert.match(await error.textContent(), /Check the request's parameters/);
    await page.screenshot({ path: join(shots, 'error-1280x800.png') });
    await error.getByRole('button', { name: 'Dismiss' }).click();

    // Rotate the key: the new one is shown once and differs.
    await page.getByRole('tab', { name: 'Apps' }).click();
    await row.getByRole('button', { name: 'Rotate key console-e2e' }).click();
    await dialog.getByRole('button', { name: 'Rotate key' }).click();
    await until('the new key', async () => {
      const k = (await text(page.locator('#secretAppKey'))).trim();
      return k && k !== appKey;
    });
    assert.equal((await server.admin('GET', `/v1/admin/apps/${appId}`)).appKey,
      (await page.locator('#secretAppKey').textContent()).trim());
    await secret.getByRole('button', { name: /hide it/ }).click();

    // Set the balance to 60 minutes.
    await row.getByRole('button', { name: 'Set balance console-e2e' }).click();
    await dialog.getByLabel('Quota in minutes').fill('60');
    await dialog.getByRole('button', { name: 'Save balance' }).click();
    await until('the balance', async () => /of 60 min left/.test(await row.textContent()));
    assert.equal((await server.admin('GET', `/v1/admin/apps/${appId}`)).quotaMinutes, 60);

    // Delete: cancelling keeps the app, confirming removes it.
    await row.getByRole('button', { name: 'Delete console-e2e' }).click();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await row.count(), 1);
    await row.getByRole('button', { name: 'Delete console-e2e' }).click();
    await dialog.getByRole('button', { name: 'Delete app' }).click();
    await until('the row to go', async () => (await row.count()) === 0);
    await assert.rejects(server.admin('GET', `/v1/admin/apps/${appId}`), /404/);

    assert.deepEqual(external, [], 'the console loads nothing from elsewhere');
  } finally {
    await browser.close();
    await server.stop();
  }
});
