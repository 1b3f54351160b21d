// Statistics of the browser SDK: what the two RTCPeerConnections report, turned into
// the `stats` sample the engine emits every 2 s and into the raw network-quality bands
// of the interval (./quality.js applies the rule and the hysteresis). The rules
// (deltas between two samples) are plain functions of numbers, so they are tested
// without a browser (web/tests/sdk-units.test.mjs).
import { rawUp, rawDown } from './quality.js';

/** How a connection reaches the server, from its getStats() report: the selected ICE
 * pair's local candidate — 'udp', 'tcp' (ICE-TCP, where UDP is blocked) or
 * 'relay/<udp|tcp|tls>' through TURN; null before a pair is selected. */
export function selectedTransport(report) {
  let pairId = null;
  report.forEach((s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
  });
  const pair = pairId ? report.get(pairId) : null;
  const local = pair ? report.get(pair.localCandidateId) : null;
  if (!local) return null;
  return local.candidateType === 'relay' ? `relay/${local.relayProtocol || 'udp'}` : (local.protocol ?? null);
}

/** Counters summed over a publish and a subscribe connection (either may be null):
 * { send: { bytes, packets, rttMs, lost, reportRttMs, rttMeasurements, availableBps, targetBps, cpuLimited },
 *   receive: { bytes, packets, lost, repaired, jitterMs, fps, width, height, rttMs, videoPackets,
 *              framesDecoded, freezes, freezeSeconds },
 *   transport: selectedTransport() of the publish connection, else the subscribe one }. */
export async function collectStats(publishPc, subscribePc) {
  const out = {
    send: { bytes: 0, packets: 0, rttMs: null, lost: 0, reportRttMs: null, rttMeasurements: null, availableBps: null, targetBps: 0, cpuLimited: false },
    receive: { bytes: 0, packets: 0, lost: 0, repaired: 0, jitterMs: 0, fps: 0, width: 0, height: 0, rttMs: null, videoPackets: 0, framesDecoded: 0, freezes: 0, freezeSeconds: 0 },
    transport: null,
  };
  const pair = (s) => s.type === 'candidate-pair' && s.nominated && s.currentRoundTripTime !== undefined;
  if (publishPc) {
    const send = out.send;
    const report = await publishPc.getStats();
    out.transport = selectedTransport(report);
    report.forEach((s) => {
      if (s.type === 'outbound-rtp') {
        send.bytes += s.bytesSent || 0;
        send.packets += s.packetsSent || 0;
        send.targetBps += s.targetBitrate || 0;
        // The browser lowers a video it cannot encode in time and says why.
        if (s.qualityLimitationReason === 'cpu') send.cpuLimited = true;
      }
      // The server's receiver reports about what we send.
      if (s.type === 'remote-inbound-rtp') {
        send.lost += Math.max(0, s.packetsLost || 0);
        if (s.roundTripTime !== undefined) send.reportRttMs = Math.max(send.reportRttMs ?? 0, s.roundTripTime * 1000);
        if (s.roundTripTimeMeasurements !== undefined) send.rttMeasurements = (send.rttMeasurements ?? 0) + s.roundTripTimeMeasurements;
      }
      if (pair(s)) {
        send.rttMs = s.currentRoundTripTime * 1000;
        if (s.availableOutgoingBitrate !== undefined) send.availableBps = s.availableOutgoingBitrate;
      }
    });
  }
  if (subscribePc) {
    const r = out.receive;
    const report = await subscribePc.getStats();
    out.transport ??= selectedTransport(report);
    report.forEach((s) => {
      if (pair(s)) r.rttMs = s.currentRoundTripTime * 1000;
      if (s.type !== 'inbound-rtp') return;
      r.bytes += s.bytesReceived || 0;
      r.packets += s.packetsReceived || 0;
      r.lost += Math.max(0, s.packetsLost || 0);
      // Retransmissions that arrived (a part of packetsReceived): lost on the way.
      r.repaired += s.retransmittedPacketsReceived || 0;
      r.jitterMs = Math.max(r.jitterMs, (s.jitter || 0) * 1000);
      if (s.kind === 'video') {
        r.fps = s.framesPerSecond || 0;
        r.width = s.frameWidth || 0;
        r.height = s.frameHeight || 0;
        r.videoPackets += s.packetsReceived || 0;
        r.framesDecoded += s.framesDecoded || 0;
        r.freezes += s.freezeCount || 0;
        r.freezeSeconds += s.totalFreezesDuration || 0;
      }
    });
  }
  return out;
}

/**
 * The `stats` sample between two collectStats() results taken `secs` apart.
 * Fields not measured (nothing published, nothing received, no RTT from the ICE
 * candidate pair) are null, so that a page can show "not measured" rather than 0.
 * media: { publishing, subscribing } — whether each connection exists.
 */
export function networkSample(prev, cur, secs, { publishing, subscribing }) {
  const packets = cur.receive.packets - prev.receive.packets;
  const lost = cur.receive.lost - prev.receive.lost;
  const lossRate = packets + lost > 0 ? lost / (packets + lost) : 0;
  return {
    lossRate: packets + lost > 0 ? lossRate : null,
    rttMs: cur.send.rttMs,
    jitterMs: cur.receive.packets ? cur.receive.jitterMs : null,
    fps: cur.receive.width ? cur.receive.fps : null,
    width: cur.receive.width || null,
    height: cur.receive.height || null,
    sendKbps: publishing ? ((cur.send.bytes - prev.send.bytes) * 8) / 1000 / secs : null,
    receiveKbps: subscribing ? ((cur.receive.bytes - prev.receive.bytes) * 8) / 1000 / secs : null,
    transport: cur.transport ?? null,
  };
}

/**
 * The raw quality bands of the interval between two collectStats() results.
 * before: what the intervals before saw ({ acked, flowing, decoding }, all false for
 * the first); expecting: whether someone we subscribe to publishes. Returns
 * { up, down, seen } where seen is the `before` of the next interval.
 */
export function rawBands(prev, cur, before, { expecting }) {
  const d = (a, b) => Math.max(0, a - b);
  const rttMs = cur.send.reportRttMs ?? cur.send.rttMs ?? cur.receive.rttMs;
  // Without the measurement counter (an older browser) acknowledgement cannot be told apart.
  const acked = cur.send.rttMeasurements === null || d(cur.send.rttMeasurements, prev.send.rttMeasurements ?? 0) > 0;
  const sent = d(cur.send.packets, prev.send.packets);
  const bandwidth = cur.send.availableBps !== null && cur.send.targetBps > 0 ? cur.send.availableBps / cur.send.targetBps : null;
  const up = rawUp({ sent, lost: d(cur.send.lost, prev.send.lost), rttMs, bandwidth, acked, wasAcked: before.acked });

  const repaired = d(cur.receive.repaired ?? 0, prev.receive.repaired ?? 0);
  const received = Math.max(0, d(cur.receive.packets, prev.receive.packets) - repaired);
  const frames = d(cur.receive.framesDecoded, prev.receive.framesDecoded);
  const videoPackets = d(cur.receive.videoPackets, prev.receive.videoPackets);
  const freezes = d(cur.receive.freezes, prev.receive.freezes);
  // A freeze longer than 500 ms: the browser's freezes of the interval average at least
  // that (so one of them lasted that long), or video packets came and no frame decoded.
  const froze = (freezes > 0 && d(cur.receive.freezeSeconds, prev.receive.freezeSeconds) / freezes >= 0.5) ||
    (before.decoding && videoPackets > 0 && frames === 0);
  const down = rawDown({
    received, lost: d(cur.receive.lost, prev.receive.lost), repaired, jitterMs: cur.receive.packets ? cur.receive.jitterMs : null,
    rttMs, froze, expecting, wasFlowing: before.flowing,
  });
  // Down (5) lasts while the silence does: "flowing" and "acknowledged" stay set until
  // media comes back, or until there is nothing to send / nothing expected any more.
  return {
    up, down,
    seen: { acked: sent > 0 && (acked || !!before.acked), flowing: received + repaired > 0 || (expecting && !!before.flowing), decoding: frames > 0 },
  };
}

/**
 * The device's load from consecutive samples: the browser's own video adaptation says
 * when the CPU is what limits the video (`qualityLimitationReason` "cpu"). Two samples
 * in a row must agree before the state changes, so a moment's limit says nothing.
 * `state` is { limited, streak } (start with { limited: false, streak: 0 }); returns
 * 'low' when the limit starts, 'restored' when it ends, or null.
 */
export function deviceLoad(state, cpuLimited) {
  if (cpuLimited === state.limited) {
    state.streak = 0;
    return null;
  }
  state.streak += 1;
  if (state.streak < 2) return null;
  state.limited = cpuLimited;
  state.streak = 0;
  return cpuLimited ? 'low' : 'restored';
}
