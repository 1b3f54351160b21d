// Statistics and network quality of the browser SDK: what the two RTCPeerConnections
// report, turned into the networkQuality sample the engine emits every 2 s. The rules
// (deltas between two samples, the 1..5 grade) are plain functions of numbers, so they
// are tested without a browser (web/tests/stats.test.mjs).

/** Counters summed over a publish and a subscribe connection (either may be null):
 * { send: { bytes, rttMs }, receive: { bytes, packets, lost, jitterMs, fps, width, height } }. */
export async function collectStats(publishPc, subscribePc) {
  const out = { send: { bytes: 0, rttMs: null }, receive: { bytes: 0, packets: 0, lost: 0, jitterMs: 0, fps: 0, width: 0, height: 0 } };
  if (publishPc) {
    (await publishPc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp') out.send.bytes += s.bytesSent || 0;
      if (s.type === 'candidate-pair' && s.nominated && s.currentRoundTripTime !== undefined) out.send.rttMs = s.currentRoundTripTime * 1000;
    });
  }
  if (subscribePc) {
    (await subscribePc.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      out.receive.bytes += s.bytesReceived || 0;
      out.receive.packets += s.packetsReceived || 0;
      out.receive.lost += Math.max(0, s.packetsLost || 0);
      out.receive.jitterMs = Math.max(out.receive.jitterMs, (s.jitter || 0) * 1000);
      if (s.kind === 'video') { out.receive.fps = s.framesPerSecond || 0; out.receive.width = s.frameWidth || 0; out.receive.height = s.frameHeight || 0; }
    });
  }
  return out;
}

/** 1 excellent .. 5 very bad, from loss rate (0..1) and round trip (ms): the ARTC/Agora
 * scale. An unmeasured round trip (0) counts as good. */
export function qualityGrade(lossRate, rttMs) {
  if (lossRate > 0.2 || rttMs > 800) return 5;
  if (lossRate > 0.1 || rttMs > 400) return 4;
  if (lossRate > 0.05 || rttMs > 200) return 3;
  if (lossRate > 0.01 || rttMs > 100) return 2;
  return 1;
}

/**
 * The networkQuality sample between two collectStats() results taken `secs` apart.
 * Fields not measured (nothing published, nothing received, no RTT from the ICE
 * candidate pair) are null, so that a page can show "not measured" rather than 0.
 * media: { publishing, subscribing } — whether each connection exists.
 */
export function networkSample(prev, cur, secs, { publishing, subscribing }) {
  const packets = cur.receive.packets - prev.receive.packets;
  const lost = cur.receive.lost - prev.receive.lost;
  const lossRate = packets + lost > 0 ? lost / (packets + lost) : 0;
  return {
    quality: qualityGrade(lossRate, cur.send.rttMs || 0),
    lossRate: packets + lost > 0 ? lossRate : null,
    rttMs: cur.send.rttMs,
    jitterMs: cur.receive.packets ? cur.receive.jitterMs : null,
    fps: cur.receive.width ? cur.receive.fps : null,
    width: cur.receive.width || null,
    height: cur.receive.height || null,
    sendKbps: publishing ? ((cur.send.bytes - prev.send.bytes) * 8) / 1000 / secs : null,
    receiveKbps: subscribing ? ((cur.receive.bytes - prev.receive.bytes) * 8) / 1000 / secs : null,
  };
}

/** The warning a change of grade raises: weak when it falls to 4 or worse, recovered
 * when it climbs back above; null otherwise (and for the first sample). */
export function qualityChange(last, quality) {
  if (last === null) return null;
  if (last < 4 && quality >= 4) return 'weak';
  if (last >= 4 && quality < 4) return 'recovered';
  return null;
}
