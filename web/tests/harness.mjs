// Shared helpers for the browser tests: a real parleyd on 127.0.0.1 and Debian's
// Chromium driven by playwright-core. Run inside `unshare -n` (see scripts/web-test):
// the only network is loopback. The server serves this checkout's web/ (--web-root),
// not the copy staged beside the binary, so the tests see the files they test.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = join(here, '..', '..');
export const outDir = join(repo, 'build', 'web-test-output');
mkdirSync(outDir, { recursive: true });

// A built program: the environment variable `env` names it, else the first preset that
// built `build/<preset>/<parts>`; null when none did.
export function builtPath(env, ...parts) {
  if (process.env[env]) return process.env[env];
  for (const preset of ['ci', 'debug', 'release']) {
    const p = join(repo, 'build', preset, ...parts);
    if (existsSync(p)) return p;
  }
  return null;
}

export function parleydPath() {
  const p = builtPath('PARLEYD', 'server', 'parleyd');
  if (!p) throw new Error('parleyd not built; set PARLEYD');
  return p;
}

// The parley CLI for tests that run native clients: PARLEY_CLI, else a built preset's; null if none.
export function parleyCliPath() { return builtPath('PARLEY_CLI', 'cli', 'parley'); }

// Runs `command args` to completion; resolves with its exit status, the JSON lines it
// printed (`parley … --json` events) and its stderr.
export function runJsonLines(command, args) {
  return new Promise((resolve) => {
    const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { err += d; });
    // 'close', not 'exit': the process may exit before its last output has been read
    // (a program that writes everything as it ends: its lines were lost under load).
    proc.on('close', (status) => {
      const events = out.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return null; } }).filter(Boolean);
      resolve({ status, events, err });
    });
  });
}

export const adminKey = 'web-test-admin-key';
export const webRoot = join(repo, 'web');

// options.listen / options.mediaAddress: where it listens and what media address it
// announces (default 127.0.0.1 for both; the network lab uses 0.0.0.0 and its link).
export async function startServer(extra = [], options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-web-'));
  const portFile = join(dir, 'port');
  const proc = spawn(parleydPath(), ['--listen', options.listen || '127.0.0.1', '--port', '0', '--data', dir,
    '--port-file', portFile, '--admin-key', adminKey, '--log-level', 'warn',
    '--media-address', options.mediaAddress || '127.0.0.1', '--web-root', webRoot, ...extra],
  { stdio: ['ignore', 'inherit', 'inherit'] });
  for (let i = 0; i < 500; i++) {
    if (existsSync(portFile)) {
      const port = parseInt(readFileSync(portFile, 'utf8'), 10);
      if (port > 0) {
        const url = `http://127.0.0.1:${port}`;
        return {
          url, port,
          async admin(method, path, body) {
            const r = await fetch(url + path, {
              method, headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
              body: body ? JSON.stringify(body) : undefined,
            });
            const json = await r.json();
            if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
            return json;
          },
          async stop() {
            proc.kill('SIGTERM');
            await new Promise((res) => proc.once('exit', res));
            rmSync(dir, { recursive: true, force: true });
          },
        };
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  proc.kill('SIGKILL');
  throw new Error('parleyd did not start');
}

// The flags ../shared/notes/webrtc-on-loopback.md requires on these machines.
// options.fakeDevices: how many fake cameras Chromium offers (default 1);
// options.executablePath: a wrapper that starts Chromium elsewhere (the network lab's
// client namespace); options.args: more flags; options.hosts: addresses besides
// 127.0.0.1 that may be looked up (every other name resolves to nothing).
export async function launchChromium(options = {}) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'parley-chromium-'));
  const args = [
    '--headless=new', '--no-sandbox', '--disable-gpu',
    options.fakeDevices ? `--use-fake-device-for-media-stream=device-count=${options.fakeDevices}` : '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    '--allow-loopback-in-peer-connection',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
    `--host-resolver-rules=MAP * ~NOTFOUND, ${['127.0.0.1', ...(options.hosts || [])].map((h) => `EXCLUDE ${h}`).join(', ')}`,
    '--disable-features=WebRtcHideLocalIpsWithMdns,MediaRouter,DialMediaRouteProvider,OptimizationHints,Translate,AutofillServerCommunication,CertificateTransparencyComponentUpdater',
    '--disable-domain-reliability', '--disable-client-side-phishing-detection', '--disable-default-apps',
    '--disable-extensions', '--no-default-browser-check', '--disable-breakpad', '--no-pings',
    ...(options.args || []),
  ];
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: options.executablePath || '/usr/bin/chromium', headless: true, args,
  });
  return {
    context,
    async newPage() { return context.newPage(); },
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// A server, a Chromium and a page on the demo, with an app whose tokens admit users to
// `channel`: runs `body({ server, browser, page, app, token, signal })` and stops both
// whatever it does. token(user) mints a 10-minute token; signal is the native URL;
// `chromium`: launchChromium's options.
export async function withChannel({ app, channel, serverArgs = [], chromium = {} }, body) {
  const server = await startServer(serverArgs);
  const browser = await launchChromium(chromium);
  try {
    const created = await server.admin('POST', '/v1/admin/apps', { name: app });
    const token = async (user) => (await server.admin('POST', `/v1/admin/apps/${created.appId}/tokens`,
      { channelId: channel, userId: user, ttlSeconds: 600 })).token;
    const page = await browser.newPage();
    await page.goto(`${server.url}/demo/`);
    return await body({ server, browser, page, app: created, token, signal: `ws://127.0.0.1:${server.port}/v1/signal` });
  } finally {
    await browser.close();
    await server.stop();
  }
}
