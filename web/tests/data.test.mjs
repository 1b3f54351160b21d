// Data messages between browsers through the SFU (SCTP data channels on a data
// connection of their own): to the channel and to one member, text and binary, up to
// 64 KiB, in order on the reliable ordered channel; and the codes parley.js answers
// with before anything is sent (not open, no such member, too large, too fast).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withChannel } from './harness.mjs';

// In a page: joins with data messages on, and records what arrives in window.got.
async function dataMember({ token }) {
  const { createEngine } = await import('/sdk/parley.js');
  const engine = createEngine({ dataMessages: true });
  window.engine = engine;
  window.got = [];
  window.states = [];
  engine.on('dataChannelState', ({ state }) => window.states.push(state));
  engine.on('dataMessage', ({ userId, data, reliable, ordered }) => {
    const text = typeof data === 'string';
    let sum = 0;
    if (!text) for (const b of data) sum = (sum * 31 + b) >>> 0;
    window.got.push({ userId, text, reliable, ordered, value: text ? data : { length: data.length, sum } });
  });
  await engine.joinChannel(token, 'data');
  for (let i = 0; i < 100 && engine.data.state !== 'open'; i++) await new Promise((r) => setTimeout(r, 100));
  return engine.data.state;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(page, fn, arg, ms = 10000) {
  let v;
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
    v = await page.evaluate(fn, arg);
    if (v) return v;
  }
  return v;
}

test('browsers exchange data messages through the SFU, to the channel and to one member', { timeout: 90000 }, async () => {
  await withChannel({ app: 'data', channel: 'data' }, async ({ browser, page: alice, token, server }) => {
    const member = async (user) => {
      const page = user === 'alice' ? alice : await browser.newPage();
      if (page !== alice) await page.goto(`${server.url}/demo/`);
      assert.equal(await page.evaluate(dataMember, { token: await token(user) }), 'open', `${user}'s data connection opens`);
      return page;
    };
    await member('alice');
    const bob = await member('bob');
    const carol = await member('carol');
    assert.deepEqual(await alice.evaluate(() => window.states), ['connecting', 'open']);

    // To everyone: text.
    await alice.evaluate(() => window.engine.sendDataMessage('hello, channel'));
    for (const p of [bob, carol]) {
      const got = await until(p, () => window.got.length >= 1 && window.got);
      assert.deepEqual(got[0], { userId: 'alice', text: true, reliable: true, ordered: true, value: 'hello, channel' });
    }
    // To bob only: 64 KiB of binary, unordered; carol gets nothing.
    const sent = await alice.evaluate(() => {
      const bytes = new Uint8Array(64 * 1024);
      let sum = 0;
      for (let i = 0; i < bytes.length; i++) { bytes[i] = (i * 7 + 3) & 0xff; sum = (sum * 31 + bytes[i]) >>> 0; }
      window.engine.sendDataMessage(bytes, { to: 'bob', ordered: false });
      return { length: bytes.length, sum };
    });
    const bobGot = await until(bob, () => window.got.length >= 2 && window.got);
    assert.deepEqual(bobGot[1], { userId: 'alice', text: false, reliable: true, ordered: false, value: sent });
    // Ordered and reliable: 200 messages in the order sent, from bob to alice.
    await bob.evaluate(() => { for (let i = 0; i < 200; i++) window.engine.sendDataMessage(`#${i}`, { to: 'alice' }); });
    const order = await until(alice, () => window.got.length >= 200 && window.got.map((g) => g.value));
    assert.deepEqual(order, Array.from({ length: 200 }, (_, i) => `#${i}`));
    await sleep(300);
    assert.equal(await carol.evaluate(() => window.got.length), 1, 'carol got the channel message only');
    // Unreliable messages arrive too (nothing is lost on loopback).
    await carol.evaluate(() => window.engine.sendDataMessage('fast and loose', { reliable: false }));
    const loose = await until(bob, () => window.got.find((g) => g.value === 'fast and loose'));
    assert.equal(loose.reliable, false);

    // The codes, before anything is sent.
    const codes = await alice.evaluate(async () => {
      const e = window.engine;
      const code = (fn) => { try { fn(); return 'sent'; } catch (err) { return err.hex || String(err); } };
      const out = {
        tooLarge: code(() => e.sendDataMessage(new Uint8Array(64 * 1024 + 1))),
        tooLargeText: code(() => e.sendDataMessage('é'.repeat(32 * 1024 + 1))),  // 2 bytes each in UTF-8
        nobody: code(() => e.sendDataMessage('hi', { to: 'nobody' })),
        notBytes: code(() => e.sendDataMessage(42)),
      };
      let accepted = 0, limited = '';
      for (let i = 0; i < 300; i++) {
        const r = code(() => e.sendDataMessage('x'));
        if (r === 'sent') accepted++; else limited = r;
      }
      out.burst = { accepted, limited };
      await e.enableDataMessages(false);
      out.closed = code(() => e.sendDataMessage('after'));
      out.states = window.states;
      return out;
    });
    assert.equal(codes.tooLarge, '0x0F070001');
    assert.equal(codes.tooLargeText, '0x0F070001');
    assert.equal(codes.nobody, '0x0F070004');
    assert.match(codes.notBytes, /TypeError/);
    assert.ok(codes.burst.accepted >= 250 && codes.burst.accepted < 300, `a burst is cut at the rate: ${JSON.stringify(codes.burst)}`);
    assert.equal(codes.burst.limited, '0x0F070002');
    assert.equal(codes.closed, '0x0F070003');
    assert.deepEqual(codes.states, ['connecting', 'open', 'closed']);
    // The server relayed the burst (within its own limit, the same one): bob got them.
    const burst = await until(bob, () => window.got.filter((g) => g.value === 'x').length >= 250
      && window.got.filter((g) => g.value === 'x').length);
    console.log(`# data messages: 64 KiB binary delivered whole; 200 ordered in order; burst: ${codes.burst.accepted} accepted by parley.js, ${burst} relayed to bob`);
    // Turned on again in the call: a new data connection, and messages flow again.
    await alice.evaluate(() => window.engine.enableDataMessages(true));
    await alice.evaluate(() => window.engine.sendDataMessage('back', { to: 'carol' }));
    assert.ok(await until(carol, () => window.got.some((g) => g.value === 'back' && g.userId === 'alice')));
  });
});
