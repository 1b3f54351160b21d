// The network suite's reference: Chromium ↔ Chromium through the same SFU and the same
// network lab profiles as bench/network_suite (native ↔ native). Chromium's own
// statistics give the numbers: video fps decoded, freezes (freezeCount and
// totalFreezesDuration), audio concealment (concealedSamples / totalSamplesReceived)
// and the send bitrate. Needs root and a built parleyd and parley-netem:
//   unshare -n sh -c 'ip link set lo up && node bench/network_suite_web.mjs [--seconds 20] [--profiles a,b]'
import { startLab } from '../web/tests/lab.mjs';
import { browserParticipant } from '../web/tests/participants.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const seconds = Math.max(10, Number(opt('--seconds', '20')));
const all = ['good', 'lossy-10', 'lossy-30', 'burst-5', 'jitter-80', 'cap-300k', 'cap-1m', '3g', 'outage-5s', 'outage-35s'];
const profiles = opt('--profiles', all.join(',')).split(',');
const outageMs = { 'outage-5s': 5000, 'outage-35s': 35000 };
const kOutageAtS = 7;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Cumulative counters of one page: what it received and what it sent.
async function counters() {
  const out = { frames: 0, freezes: 0, frozenS: 0, concealed: 0, samples: 0, sentBytes: 0 };
  const add = (report, f) => report?.forEach((s) => f(s));
  add(window.engine.subscribePc && await window.engine.subscribePc.getStats(), (s) => {
    if (s.type !== 'inbound-rtp') return;
    if (s.kind === 'video') {
      out.frames += s.framesDecoded || 0;
      out.freezes += s.freezeCount || 0;
      out.frozenS += s.totalFreezesDuration || 0;
    } else {
      out.concealed += s.concealedSamples || 0;
      out.samples += s.totalSamplesReceived || 0;
    }
  });
  add(window.engine.publishPc && await window.engine.publishPc.getStats(), (s) => {
    if (s.type === 'outbound-rtp') out.sentBytes += s.bytesSent || 0;
  });
  return out;
}

const lab = await startLab();
const app = await lab.server.admin('POST', '/v1/admin/apps', { name: 'suite' });
const token = async (channelId, userId) => (await lab.server.admin('POST', `/v1/admin/apps/${app.appId}/tokens`,
  { channelId, userId, ttlSeconds: 3600 })).token;
console.log('profile     direction       fps  concealed %  freezes  frozen s  send kbps');
try {
  for (const profile of profiles) {
    lab.ctl('profile good');
    const callS = outageMs[profile] ? kOutageAtS + outageMs[profile] / 1000 + 10 : seconds;
    const browser = await lab.launchChromium();
    try {
      // The pages load over a good link (a web page is not the call; at 30 % loss it
      // can take longer than the call); the call itself, from the join on, goes
      // through the profile, as the native clients' does.
      const pages = [];
      for (const user of ['ann', 'ben']) {
        const page = await browser.newPage();
        await page.goto(`${lab.labUrl}/demo/`);
        pages.push({ page, user });
      }
      if (!outageMs[profile]) lab.ctl(`profile ${profile}`);
      for (const p of pages) await p.page.evaluate(browserParticipant, { token: await token(profile, p.user) });
      const outage = outageMs[profile] ? sleep(kOutageAtS * 1000).then(() => lab.ctl(`outage ${outageMs[profile]}`)) : null;
      await sleep(3000);  // joining and the first keyframe are not the network's doing
      const start = await Promise.all(pages.map((p) => p.page.evaluate(counters)));
      await sleep((callS - 3) * 1000);
      await outage;
      const end = await Promise.all(pages.map((p) => p.page.evaluate(counters)));
      for (let i = 0; i < 2; i++) {
        const [a, b] = [start[i], end[i]];
        const span = callS - 3;
        const sender = i === 0 ? 'ben' : 'ann', receiver = i === 0 ? 'ann' : 'ben';
        const fps = (b.frames - a.frames) / span;
        const concealed = b.samples > a.samples ? (100 * (b.concealed - a.concealed)) / (b.samples - a.samples) : 100;
        const sendKbps = ((end[1 - i].sentBytes - start[1 - i].sentBytes) * 8) / 1000 / span;
        console.log(`${profile.padEnd(11)} ${`${sender}→${receiver}`.padEnd(13)} ${fps.toFixed(1).padStart(6)} ` +
          `${concealed.toFixed(1).padStart(12)} ${String(b.freezes - a.freezes).padStart(8)} ` +
          `${(b.frozenS - a.frozenS).toFixed(1).padStart(9)} ${sendKbps.toFixed(0).padStart(10)}`);
      }
    } finally {
      await browser.close();
    }
  }
} finally {
  await lab.stop();
}
