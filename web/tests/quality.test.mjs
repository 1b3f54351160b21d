// Network quality between two browsers on loopback (parley.js, docs/protocol.md): each
// page measures its own pair, the server relays it to the other (reportStats, then the
// networkQuality notification), and a user whose connection the server reports lost is
// (5, 5) (down) at the others until it resumes. Assertions are about what is heard, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchChromium } from './harness.mjs';
import { browserParticipant, hear } from './participants.mjs';


const qualityOf = (heard, userId) => heard.filter((h) => h.ev === 'networkQuality' && h.userId === userId);

async function twoBrowsers(channel, fn) {
  const server = await startServer();
  const browser = await launchChromium();
  try {
    const app = await server.admin('POST', '/v1/admin/apps', { name: 'quality' });
    const pages = {};
    for (const user of ['ann', 'ben']) {
      const { token } = await server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`, { channelId: channel, userId: user, ttlSeconds: 600 });
      pages[user] = await browser.newPage();
      await pages[user].goto(`${server.url}/demo/`);
      await pages[user].evaluate(browserParticipant, { token });
    }
    await fn(pages);
  } finally {
    await browser.close();
    await server.stop();
  }
}

test('a user whose connection drops is (5, 5) (down) at the others until it resumes', { timeout: 90000 }, async () => {
  await twoBrowsers('dropq', async ({ ann, ben }) => {
    // Each measures its own pair (1..5 both ways once media flows both ways).
    const measured = (h) => qualityOf(h, '').some((q) => q.up >= 0 && q.up <= 4 && q.down >= 0 && q.down <= 4);
    assert.ok(measured(await hear(ben, measured, 20000)), 'ben measured his own quality');
    // Ben's signalling socket closes under him (no leave): the server tells ann, and ben resumes.
    await ben.evaluate(() => window.engine.signal.ws.close());
    const back = (h) => {
      const down = h.findIndex((x) => x.ev === 'networkQuality' && x.userId === 'ben' && x.up === 5 && x.down === 5);
      return down >= 0 && h.slice(down + 1).some((x) => x.ev === 'networkQuality' && x.userId === 'ben' && x.up < 5 && x.down < 5);
    };
    const heard = await hear(ann, back, 20000);
    console.log(`# ann heard ${JSON.stringify(heard)}`);
    assert.ok(back(heard), 'ben was (5, 5) at ann, then not');
    assert.deepEqual((await ben.evaluate(() => window.heard)).filter((h) => h.hex === '0x00000103' || h.hex === '0x00000105').map((h) => h.hex),
      ['0x00000103', '0x00000105'], 'ben lost the link and resumed');
    assert.deepEqual(heard.filter((h) => h.ev === 'error'), []);
  });
});

test('each browser hears the other\'s quality as the server relays it', { timeout: 90000 }, async () => {
  await twoBrowsers('relayq', async (pages) => {
    for (const [self, other] of [['ann', 'ben'], ['ben', 'ann']]) {
      const relayed = (h) => qualityOf(h, other).some((q) => q.up >= 0 && q.up <= 4 && q.down >= 0 && q.down <= 4);
      const heard = await hear(pages[self], relayed, 20000);
      assert.ok(relayed(heard), `${self} heard ${other}'s quality: ${JSON.stringify(heard)}`);
      // What is relayed is what the other measured: one of its local pairs.
      const own = qualityOf(await pages[other].evaluate(() => window.heard), '').map((q) => `${q.up},${q.down}`);
      const seen = qualityOf(heard, other).map((q) => `${q.up},${q.down}`);
      for (const pair of seen) assert.ok(own.includes(pair), `${other} measured ${own.join(' ')}; ${self} heard ${pair}`);
    }
  });
});
