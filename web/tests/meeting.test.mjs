// The meeting page (/demo/) end to end in Chromium through parleyd, as a user meets it:
// two people open /demo/#token=...&name=... links and see each other (names, video,
// speaking ring, network quality in words, statistics), one mutes camera and
// microphone (the other sees the placeholder and the muted microphone), switches
// camera and microphone while publishing (the others keep decoding), shares the
// screen, leaves (camera and microphone stopped); a phone-sized screen gets one
// column without sideways scrolling; an admin kick and a disabled app show 0x02010105
// with its advice and stop the camera; the advanced form (access token or classic
// fields) still joins. Screenshots go to build/web-test-output/meeting/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { startServer, launchChromium, outDir } from './harness.mjs';

const shots = join(outDir, 'meeting');
mkdirSync(shots, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, probe, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const stateOf = (page) => page.locator('#state').textContent();

async function openMeeting(browser, server, token, name, viewport = { width: 1280, height: 800 }) {
  const page = await browser.newPage();
  await page.setViewportSize(viewport);
  page.on('pageerror', (e) => console.log(`# page error (${name}): ${e.message}`));
  await page.goto(`${server.url}/demo/#${new URLSearchParams({ token, name })}`);
  await until(`${name} in the call`, async () => (await stateOf(page)) === 'in call');
  return page;
}

// The remote tile of `userId` in `page`: its caption, camera state and video progress.
function remoteTile(page, userId) {
  return page.evaluate(async (id) => {
    const tile = document.querySelector(`#tiles .tile[data-user="${id}"]:not([data-screen])`);
    if (!tile) return null;
    const v = tile.querySelector('video');
    return {
      name: tile.querySelector('.name').textContent, cam: tile.dataset.cam, micOff: tile.classList.contains('mic-off'),
      width: v.videoWidth, time: v.currentTime, placeholder: getComputedStyle(tile.querySelector('.placeholder')).display !== 'none',
    };
  }, userId);
}

async function framesDecoded(page) {
  return page.evaluate(async () => {
    let n = 0;
    const pc = window.parleyEngine.subscribePc;
    if (pc) (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') n += s.framesDecoded || 0; });
    return n;
  });
}

async function mintApp(server, name) {
  const app = await server.admin('POST', '/v1/admin/apps', { name });
  const token = async (user, channel = 'meet') => (await server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
    { channelId: channel, userId: user, ttlSeconds: 600 })).token;
  return { app, token };
}

test('two people meet by link: names, video, speaking, mute, devices, screen, leave, phone layout', { timeout: 180000 }, async () => {
  const server = await startServer();
  // Three fake cameras: Chromium's fake_device_1 delivers Y16 (depth) frames that its
  // encoders drop, so the switch goes to fake_device_2.
  const browser = await launchChromium({ fakeDevices: 3 });
  try {
    const { token } = await mintApp(server, 'meeting');
    const alice = await openMeeting(browser, server, await token('alice'), 'Alice');
    assert.equal(await alice.locator('#channelName').textContent(), '#meet', 'the channel from the token');
    const bob = await openMeeting(browser, server, await token('bob'), 'Bob');

    // Each sees the other by name, with moving video.
    for (const [page, other, name] of [[alice, 'bob', 'Bob'], [bob, 'alice', 'Alice']]) {
      const first = await until(`${name}'s video`, async () => {
        const t = await remoteTile(page, other);
        return t && t.cam === 'on' && t.width > 0 && t;
      });
      assert.equal(first.name, name);
      assert.equal(first.placeholder, false);
      await until(`${name}'s video to play`, async () => (await remoteTile(page, other)).time > first.time + 0.5);
    }
    assert.match(await alice.locator('#localTile .name').textContent(), /Alice \(you\)/);

    // The fake microphone beeps: someone becomes the active speaker, on both pages.
    await until('a speaking ring', async () => (await alice.locator('.tile.speaking').count()) > 0, 20000);
    // Network quality in words and bars, never "n/5"; statistics measured.
    const word = await until('a quality grade', async () => {
      const w = await alice.locator('#qualityWord').textContent();
      return w !== '—' && w;
    });
    assert.match(word, /^(excellent|good|poor|bad|very bad)$/);
    assert.doesNotMatch(await alice.locator('header').textContent(), /\/5/);
    await until('send and receive rates', async () => /kbps/.test(await alice.locator('#statSend').textContent()) &&
      /kbps/.test(await alice.locator('#statReceive').textContent()));
    await alice.screenshot({ path: join(shots, 'call-1280x800.png') });

    // Bob stops his camera and mutes his microphone: Alice sees a placeholder and the mark.
    await bob.getByRole('button', { name: 'Stop camera' }).click();
    await bob.getByRole('button', { name: 'Mute mic' }).click();
    const muted = await until('bob muted at alice', async () => {
      const t = await remoteTile(alice, 'bob');
      return t.cam === 'muted' && t.micOff && t;
    });
    assert.equal(muted.placeholder, true, 'a muted camera shows the placeholder');
    assert.equal(await bob.evaluate(() => window.parleyEngine.getLocalStream().getVideoTracks()[0].enabled), false, 'black frames');
    assert.equal(await bob.locator('#localTile').getAttribute('data-cam'), 'muted');
    await alice.screenshot({ path: join(shots, 'remote-muted-1280x800.png') });
    await bob.getByRole('button', { name: 'Start camera' }).click();
    await bob.getByRole('button', { name: 'Unmute mic' }).click();
    await until('bob unmuted at alice', async () => {
      const t = await remoteTile(alice, 'bob');
      return t.cam === 'on' && !t.micOff;
    });

    // Alice switches camera and microphone while publishing: same sender, new device.
    const options = (id) => alice.locator(`#${id} option`).evaluateAll((os) => os.map((o) => ({ value: o.value, label: o.text })));
    const cams = await options('camSelect'), mics = (await options('micSelect')).filter((o) => o.value);
    assert.ok(cams.length >= 3 && mics.length >= 2, `cameras and microphones offered (${JSON.stringify(cams)})`);
    const sending = () => alice.evaluate(() => Object.fromEntries(window.parleyEngine.publishPc.getSenders()
      .map((s) => [s.track.kind, { id: s.track.getSettings().deviceId, state: s.track.readyState }])));
    const before = await sending();
    const cam = cams.find((c) => c.label === 'fake_device_2').value, mic = mics.find((m) => m.value !== before.audio.id).value;
    assert.notEqual(cam, before.video.id);
    const oldTrack = await alice.evaluateHandle(() => window.parleyEngine.getLocalStream().getVideoTracks()[0]);
    await alice.locator('#camSelect').selectOption(cam);
    await alice.locator('#micSelect').selectOption(mic);
    const after = await until('the new devices on the senders', async () => {
      const s = await sending();
      return s.video.id === cam && s.audio.id === mic && s;
    });
    assert.equal(after.video.state, 'live');
    assert.equal(await oldTrack.evaluate((t) => t.readyState), 'ended', 'the old camera is released');
    const f0 = await framesDecoded(bob);
    await sleep(2000);
    assert.ok((await framesDecoded(bob)) > f0 + 10, 'bob keeps decoding alice after the switch');
    assert.equal(await alice.locator('#localTile').getAttribute('data-cam'), 'on');

    // Screen share: bob gets alice's screen as its own tile; stopping removes it.
    await alice.getByRole('button', { name: 'Share screen' }).click();
    const screenTile = bob.locator('#tiles .tile[data-user="alice"][data-screen]');
    await screenTile.waitFor({ timeout: 15000 });
    await until('the screen to show', () => screenTile.locator('video').evaluate((v) => v.videoWidth > 0));
    assert.match(await screenTile.textContent(), /Alice \(screen\)/);
    // The share's sound is asked for too (Chromium's fake capture offers a tone).
    assert.equal(await alice.evaluate(() => window.parleyEngine.getScreenStream().getAudioTracks().length), 1, 'the screen is shared with its sound');
    await bob.screenshot({ path: join(shots, 'screen-share-1280x800.png') });
    await alice.getByRole('button', { name: 'Stop sharing' }).click();
    await until('the screen tile to go', async () => (await screenTile.count()) === 0);

    // A phone: one column, nothing wider than the screen, controls reachable.
    await bob.setViewportSize({ width: 390, height: 844 });
    await sleep(400);
    const overflow = await bob.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling at 390 px (overflow ${overflow} px)`);
    const widths = await bob.locator('#tiles .tile').evaluateAll((ts) => ts.map((t) => t.getBoundingClientRect().width));
    assert.ok(widths.every((w) => w > 300 && w <= 390), `one tile per row (${widths})`);
    assert.ok(await bob.getByRole('button', { name: 'Leave' }).isVisible());
    await bob.screenshot({ path: join(shots, 'call-390x844.png'), fullPage: true });

    // Alice leaves: her camera and microphone stop, the page says "left", bob sees her go.
    await alice.evaluate(() => { window.capturedTracks = window.parleyEngine.getLocalStream().getTracks(); });
    await alice.getByRole('button', { name: 'Leave' }).click();
    await until('alice to have left', async () => (await stateOf(alice)) === 'left');
    assert.deepEqual(await alice.evaluate(() => window.capturedTracks.map((t) => t.readyState)), ['ended', 'ended']);
    await until('alice\'s tile to go at bob', async () => (await remoteTile(bob, 'alice')) === null);
    assert.equal(await alice.locator('#error').textContent(), '', 'leaving is not an error');
    assert.equal(await alice.getByRole('button', { name: 'Join again' }).isVisible(), true);
    await alice.screenshot({ path: join(shots, 'left-1280x800.png') });
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('removed by the server: 0x02010105 with its advice stays, camera and microphone stop', { timeout: 120000 }, async () => {
  const server = await startServer();
  const browser = await launchChromium();
  try {
    const { app, token } = await mintApp(server, 'removal');
    const alice = await openMeeting(browser, server, await token('alice'), 'Alice');
    const bob = await openMeeting(browser, server, await token('bob'), 'Bob');
    await until('alice publishing', () => alice.evaluate(() => window.parleyEngine.getLocalStream()?.getTracks().length === 2));
    await alice.evaluate(() => { window.capturedTracks = window.parleyEngine.getLocalStream().getTracks(); });

    await server.admin('POST', `/v1/admin/apps/${app.appId}/channels/meet/users/alice/kick`);
    await until('alice removed', async () => (await stateOf(alice)) === 'removed');
    const shown = async (page) => ({
      code: await page.locator('#error').getAttribute('data-code'), text: await page.locator('#error').textContent(),
    });
    let err = await shown(alice);
    assert.equal(err.code, '0x02010105');
    assert.match(err.text, /An administrator removed you/);
    assert.match(err.text, /What to do: Destroy the instance, create a new one and join the channel again/);
    assert.deepEqual(await alice.evaluate(() => window.capturedTracks.map((t) => t.readyState)), ['ended', 'ended'],
      'camera and microphone are stopped');
    assert.equal(await alice.evaluate(() => window.parleyEngine.getLocalStream()), null);
    // Later timers (heartbeat every 2 s) must not replace the removal with another code.
    await sleep(4500);
    err = await shown(alice);
    assert.equal(err.code, '0x02010105', `still the removal (${err.text})`);
    assert.equal(await stateOf(alice), 'removed');
    await alice.screenshot({ path: join(shots, 'kicked-1280x800.png') });
    await until('alice gone at bob', async () => (await remoteTile(bob, 'alice')) === null);

    // Disabling the app removes bob with the same code and its own reason.
    await bob.evaluate(() => { window.capturedTracks = window.parleyEngine.getLocalStream().getTracks(); });
    await server.admin('POST', `/v1/admin/apps/${app.appId}/disable`);
    await until('bob removed', async () => (await stateOf(bob)) === 'removed');
    err = await shown(bob);
    assert.equal(err.code, '0x02010105');
    assert.match(err.text, /app was disabled/);
    assert.deepEqual(await bob.evaluate(() => window.capturedTracks.map((t) => t.readyState)), ['ended', 'ended']);
    // Joining again now gets the disabled app's own code.
    await bob.getByRole('button', { name: 'Join again' }).click();
    await until('the refusal', async () => (await shown(bob)).code === '0x02010202');
    assert.equal(await stateOf(bob), 'call failed');
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('the advanced form still joins: access token, and classic fields', { timeout: 90000 }, async () => {
  const server = await startServer();
  const browser = await launchChromium();
  try {
    const { app, token } = await mintApp(server, 'advanced');
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${server.url}/demo/`);
    assert.equal(await stateOf(page), 'not in a call', 'no token: nothing happens by itself');
    await page.locator('#advanced summary').click();
    await page.getByLabel('Token (access token; or classic hex / single-parameter)').fill(await token('carol', 'adv'));
    await page.getByLabel('Your name').fill('Carol');
    assert.equal(await page.getByLabel('Channel', { exact: true }).inputValue(), 'adv', 'the claims fill the fields');
    await page.screenshot({ path: join(shots, 'advanced-1280x800.png'), fullPage: true });
    await page.getByRole('button', { name: 'Join' }).click();
    await until('carol in the call', async () => (await stateOf(page)) === 'in call');
    await page.getByRole('button', { name: 'Leave' }).click();
    await until('carol left', async () => (await stateOf(page)) === 'left');

    // Classic AuthInfo fields (an app that accepts classic tokens).
    await server.admin('PUT', `/v1/admin/apps/${app.appId}/settings`, { classicTokens: true });
    const classic = await server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
      { channelId: 'adv', userId: 'dave', ttlSeconds: 600, format: 'classic', nonce: 'n1' });
    const page2 = await browser.newPage();
    await page2.goto(`${server.url}/demo/`);
    await page2.locator('#advanced summary').click();
    for (const [label, value] of [['AppId', app.appId], ['Channel', 'adv'], ['User', 'dave'],
      ['Expiry (timestamp)', String(classic.timestamp)], ['Nonce', 'n1'], ['Token (access token; or classic hex / single-parameter)', classic.token]]) {
      await page2.getByLabel(label, { exact: true }).fill(value);
    }
    await page2.getByRole('button', { name: 'Join' }).click();
    await until('dave in the call', async () => (await stateOf(page2)) === 'in call');
    assert.equal(await page2.locator('#error').textContent(), '');
  } finally {
    await browser.close();
    await server.stop();
  }
});
