// The network lab for browser tests (docs/network-lab.md): a client network namespace
// held by a sleeping process, parley-netem joining it to the test's namespace
// (10.77.0.1 here, 10.77.0.2 there), a parleyd listening on the link, and Chromium
// started inside the client namespace, so its media and signalling cross the emulated
// link. Runs inside scripts/web-test's `unshare -n`: nothing reaches another address.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync, rmSync, existsSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtPath, startServer, launchChromium } from './harness.mjs';

export const SERVER_ADDRESS = '10.77.0.1';
export const CLIENT_ADDRESS = '10.77.0.2';

export function netemPath() {
  const p = builtPath('PARLEY_NETEM', 'tests', 'netlab', 'parley-netem');
  if (!p) throw new Error('parley-netem not built; set PARLEY_NETEM');
  return p;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function startLab() {
  const dir = mkdtempSync(join(tmpdir(), 'parley-lab-'));
  const sleeper = spawn('unshare', ['-n', 'sleep', '3600'], { stdio: 'ignore' });
  const self = readlinkSync('/proc/self/ns/net');
  for (let i = 0; i < 300; i++) {
    try { if (readlinkSync(`/proc/${sleeper.pid}/ns/net`) !== self) break; } catch { /* not yet */ }
    await sleep(10);
  }
  const control = join(dir, 'netem.sock');
  const out = join(dir, 'netem.out');
  const netem = spawn('sh', ['-c', `exec "$0" "$@" > "${out}" 2>&1`, netemPath(), 'link', '--client-pid', String(sleeper.pid),
    '--control', control, '--name', `pw${process.pid % 100000}`], { stdio: 'ignore' });
  for (let i = 0; i < 500 && !(existsSync(out) && readFileSync(out, 'utf8').includes('"ready"')); i++) await sleep(10);
  if (!readFileSync(out, 'utf8').includes('"ready"')) throw new Error(`parley-netem: ${readFileSync(out, 'utf8')}`);
  const server = await startServer([], { listen: '0.0.0.0', mediaAddress: SERVER_ADDRESS });
  const labUrl = `http://${SERVER_ADDRESS}:${server.port}`;
  // Chromium in the client namespace; the pipe to playwright is inherited, so it still drives it.
  const wrapper = join(dir, 'chromium-in-lab');
  writeFileSync(wrapper, `#!/bin/sh\nexec nsenter -t ${sleeper.pid} -n /usr/bin/chromium "$@"\n`);
  chmodSync(wrapper, 0o755);
  return {
    server, labUrl, clientPid: sleeper.pid,
    ctl(command) { return execFileSync(netemPath(), ['ctl', control, ...command.split(' ')], { encoding: 'utf8' }); },
    stats() { return JSON.parse(this.ctl('stats')); },
    // getUserMedia needs a secure context; the link's address is not one by itself.
    launchChromium(options = {}) {
      return launchChromium({ ...options, executablePath: wrapper, hosts: [SERVER_ADDRESS],
        args: [`--unsafely-treat-insecure-origin-as-secure=${labUrl}`, ...(options.args || [])] });
    },
    // `parley join` inside the client namespace, using the link.
    joinArgs(args) { return ['-t', String(sleeper.pid), '-n', '--', ...args, '--ice-address', CLIENT_ADDRESS]; },
    async stop() {
      await server.stop();
      netem.kill('SIGTERM');
      await new Promise((r) => netem.once('exit', r));
      sleeper.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
