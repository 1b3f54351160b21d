// Reach: a browser (parley.js in Chromium) and a native client (`parley join`) call
// each other through parleyd while a real firewall (nftables, in the test's own
// network namespace) drops every UDP packet to and from the server's media port. Both
// connect over ICE-TCP (RFC 6544) to the same port number by themselves, say so in
// their stats, and see and hear each other. The firewall's counter shows UDP was
// tried. The table is removed afterwards: the namespace is shared by the other tests.
// Then the same through one port (--one-port: ICE-TCP on the signalling port). Then both
// use only relayed candidates, through a real TURN server (coturn) that checks the
// time-limited credentials parleyd hands out with the join.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outDir, parleyCliPath, runJsonLines, withChannel } from './harness.mjs';
import { browserParticipant, inbound } from './participants.mjs';

const NFT = ['/usr/sbin/nft', '/sbin/nft'].find((p) => existsSync(p));
const MEDIA_PORT = 45321;  // fixed, so the firewall can name it

const nft = (args, input) => spawnSync(NFT, args, { input, encoding: 'utf8' });

// Blocks UDP to and from the media port (the output hook: a host firewall's way), runs
// `body`, checks the firewall counted dropped UDP, and removes the table again.
async function behindUdpBlock(t, body) {
  // Dropped as they leave, as a host firewall does: the sender's UDP check fails at
  // once. (A network firewall that drops silently makes libnice wait for its UDP
  // check's retransmissions to run out first: docs/deploy.md.)
  const set = nft(['-f', '-'], `table inet webreach {
  chain output { type filter hook output priority 0; policy accept;
    udp dport ${MEDIA_PORT} counter drop; udp sport ${MEDIA_PORT} counter drop; }
}`);
  if (set.status !== 0) {  // a kernel without nf_tables, or a sandbox that forbids it
    t.skip(`nft cannot set rules here: ${set.stderr}`);
    return;
  }
  try {
    await body();
    const counters = nft(['list', 'table', 'inet', 'webreach']).stdout;
    const dropped = [...counters.matchAll(/counter packets (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    console.log(`# UDP packets to or from the media port dropped by the firewall: ${dropped}`);
    assert.ok(dropped > 0, 'UDP was tried and dropped');
  } finally {
    nft(['delete', 'table', 'inet', 'webreach']);
  }
}

// A browser and a native client in `channel` of a server run with `serverArgs`: both
// must connect over ICE-TCP, say so, and see and hear each other; the screenshot is
// `screenshot`. Returns the server's view of the users.
async function callOverTcp({ channel, serverArgs, screenshot }) {
  const cli = parleyCliPath();
  assert.ok(cli, 'parley CLI not built; set PARLEY_CLI');
  await withChannel({ app: 'reach', channel, serverArgs }, async ({ page, token, signal, server, app }) => {
    await page.evaluate(browserParticipant, { token: await token('web') });
    const native = runJsonLines(cli, ['join', '--json', '--server', signal, '--token', await token('native'),
      '--duration', '10', '--width', '320', '--height', '240', '--fps', '15']);
    await new Promise((r) => setTimeout(r, 7000));
    const first = await page.evaluate(inbound);
    await new Promise((r) => setTimeout(r, 1500));
    const second = await page.evaluate(inbound);
    const browserTransport = await page.evaluate(async () => (await window.engine.getStats()).transport);
    await page.screenshot({ path: join(outDir, screenshot) });
    // The server sees both on ICE-TCP too (what the console shows).
    const users = (await server.admin('GET', `/v1/admin/apps/${app.appId}/channels`)).channels[0]?.users || [];
    for (const u of users) assert.equal(u.media?.transport, 'tcp', `${u.userId} publishes over TCP`);
    assert.equal(users.length, 2);
    const result = await native;
    const stats = result.events.filter((e) => e.event === 'stats').pop();
    console.log(`# over ICE-TCP: native received ${JSON.stringify(stats?.received)} via ${stats?.transport}; ` +
      `browser received ${JSON.stringify(second)} via ${browserTransport}`);
    if (!stats?.transport) console.log(`# native: ${JSON.stringify(result.events.filter((e) => e.event !== 'stats'))}\n${result.err}`);
    assert.equal(result.status, 0, result.err);
    assert.equal(browserTransport, 'tcp', 'the browser says it connected over TCP');
    assert.equal(stats.transport, 'tcp', 'the native client says it connected over TCP');
    assert.ok(stats.received.web.videoFrames > 20, 'native decodes the browser\'s video');
    assert.ok(stats.received.web.audioMs > 1000, 'native decodes the browser\'s audio');
    assert.ok(second.video && second.video.frames > first.video.frames, 'the browser keeps decoding the native video');
    assert.ok(second.audio && second.audio.bytes > first.audio.bytes, 'the browser keeps receiving native audio');
  });
}

test('behind a firewall that blocks UDP, a browser and a native client call over ICE-TCP', {
  timeout: 90000, skip: !NFT && 'nft is not installed (scripts/setup)',
}, (t) => behindUdpBlock(t, () => callOverTcp({
  channel: 'tcp', serverArgs: ['--media-port', String(MEDIA_PORT), '--media-workers', '1'],
  screenshot: 'reach-browser.png',
})));

// One-port mode: no TCP listener on the media port at all; ICE-TCP goes to the
// signalling port, told apart from the page's HTTP and WebSocket by its first bytes.
test('in one-port mode, a browser and a native client call over ICE-TCP through the signalling port', {
  timeout: 90000, skip: !NFT && 'nft is not installed (scripts/setup)',
}, (t) => behindUdpBlock(t, () => callOverTcp({
  channel: 'oneport', serverArgs: ['--one-port', '--media-port', String(MEDIA_PORT), '--media-workers', '2'],
  screenshot: 'reach-one-port.png',
})));

const TURNSERVER = ['/usr/bin/turnserver', '/usr/sbin/turnserver'].find((p) => existsSync(p));
const TURN_PORT = 34780;
const TURN_SECRET = 'web-turn-secret-0123456789';

// Starts coturn on loopback (UDP and TCP), checking parleyd's time-limited credentials
// with TURN_SECRET; resolves once it accepts TCP connections.
async function startTurn() {
  const dir = mkdtempSync(join(tmpdir(), 'parley-turn-'));
  const proc = spawn(TURNSERVER, ['-n', '--listening-ip', '127.0.0.1', '--listening-port', String(TURN_PORT),
    '--relay-ip', '127.0.0.1', '--min-port', '49300', '--max-port', '49400', '--allow-loopback-peers',
    '--use-auth-secret', '--static-auth-secret', TURN_SECRET, '--realm', 'parley.test', '--no-tls', '--no-dtls',
    '--no-cli', '--no-multicast-peers', '--log-file', 'stdout', '--pidfile', join(dir, 'turn.pid'),
    '--userdb', join(dir, 'turndb')], { stdio: ['ignore', 'ignore', 'ignore'] });
  let failed = null;
  proc.on('error', (e) => { failed = e; });
  const kill = () => proc.kill('SIGKILL');
  process.on('exit', kill);  // never left running, whatever ends the run
  const stop = () => { kill(); process.off('exit', kill); rmSync(dir, { recursive: true, force: true }); };
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((resolve) => {
      const s = connect(TURN_PORT, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) return { stop };
    if (failed) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  stop();
  throw new Error(`coturn did not start${failed ? `: ${failed.message}` : ''}`);
}

test('with relay only, a browser and a native client call through a real TURN server', {
  timeout: 90000, skip: !TURNSERVER && 'coturn is not installed (scripts/setup)',
}, async () => {
  const cli = parleyCliPath();
  assert.ok(cli, 'parley CLI not built; set PARLEY_CLI');
  const turn = await startTurn();
  try {
    const turnArgs = ['--turn-url', `turn:127.0.0.1:${TURN_PORT}?transport=udp`,
      '--turn-url', `turn:127.0.0.1:${TURN_PORT}?transport=tcp`, '--turn-secret', TURN_SECRET];
    await withChannel({ app: 'reach', channel: 'relay', serverArgs: turnArgs }, async ({ page, token, signal }) => {
      await page.evaluate(browserParticipant, { token: await token('web'), options: { relayOnly: true } });
      const native = runJsonLines(cli, ['join', '--json', '--relay-only', '--server', signal,
        '--token', await token('native'), '--duration', '10', '--width', '320', '--height', '240', '--fps', '15']);
      await new Promise((r) => setTimeout(r, 7000));
      const first = await page.evaluate(inbound);
      await new Promise((r) => setTimeout(r, 1500));
      const second = await page.evaluate(inbound);
      const browserTransport = await page.evaluate(async () => (await window.engine.getStats()).transport);
      await page.screenshot({ path: join(outDir, 'reach-relay-browser.png') });
      const result = await native;
      const stats = result.events.filter((e) => e.event === 'stats').pop();
      console.log(`# through TURN: native received ${JSON.stringify(stats?.received)} via ${stats?.transport}; ` +
        `browser received ${JSON.stringify(second)} via ${browserTransport}`);
      if (!stats?.transport) console.log(`# native: ${JSON.stringify(result.events.filter((e) => e.event !== 'stats'))}\n${result.err}`);
      assert.equal(result.status, 0, result.err);
      // Over UDP or TCP to the relay: both are offered, and Chromium takes either.
      assert.match(browserTransport, /^relay\/(udp|tcp)$/, 'the browser says it goes through the relay');
      assert.equal(stats.transport, 'relay', 'the native client says it goes through the relay');
      assert.ok(stats.received.web.videoFrames > 20, 'native decodes the browser\'s video');
      assert.ok(stats.received.web.audioMs > 1000, 'native decodes the browser\'s audio');
      assert.ok(second.video && second.video.frames > first.video.frames, 'the browser keeps decoding the native video');
      assert.ok(second.audio && second.audio.bytes > first.audio.bytes, 'the browser keeps receiving native audio');
    });
  } finally {
    turn.stop();
  }
});
