// Data messages between the members of a channel: a peer connection of its own (the
// "data connection", opened with the openData request), carrying Parley's four data
// channels through the SFU. They are negotiated out of band, one per way of sending
// (docs/protocol.md, "Data messages"): id 0 reliable and ordered, 1 reliable and
// unordered, 2 unreliable (no retransmission) and ordered, 3 unreliable and unordered.
// Each message is an envelope: a user id, a colon, the payload. Sent, the id names the
// recipient ('' = everyone else in the channel); received, the sender.
import { ErrorCode } from './errors.js';
import { ParleyError } from './parley-error.js';

/** The largest payload (bytes: a string's UTF-8) and the sender's rates; the server
 * enforces the same. */
export const kMaxDataPayload = 64 * 1024;
export const kDataMessagesPerSecond = 256;
export const kDataBytesPerSecond = 4 * 1024 * 1024;
const kLabels = ['parley-reliable', 'parley-reliable-unordered', 'parley-unreliable', 'parley-unreliable-unordered'];
const kRetryMs = 2000;
const kOpenMs = 10000;

/** A token bucket: `rate` a second, at most one second's worth saved up. */
export class RateBucket {
  constructor(rate) { this.rate = rate; this.tokens = rate; this.last = null; }
  allows(n, now) {
    if (this.last !== null && now > this.last) this.tokens = Math.min(this.rate, this.tokens + (this.rate * (now - this.last)) / 1000);
    this.last = now;
    return this.tokens >= n;
  }
  spend(n) { this.tokens -= n; }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class DataConnection {
  constructor(engine) {
    this.engine = engine;
    this.pc = null;
    this.channels = [];
    this.state = 'closed';
    this.messages = new RateBucket(kDataMessagesPerSecond);
    this.bytes = new RateBucket(kDataBytesPerSecond);
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.engine.emit('dataChannelState', { state });
  }

  /** Opens the data connection (the engine is in a channel). */
  async open() {
    const e = this.engine;
    this.close();
    const pc = new RTCPeerConnection(e.rtcConfiguration());
    this.pc = pc;
    this.setState('connecting');
    this.channels = kLabels.map((label, id) => {
      const ch = pc.createDataChannel(label, { negotiated: true, id, ordered: id % 2 === 0, ...(id < 2 ? {} : { maxRetransmits: 0 }) });
      ch.binaryType = 'arraybuffer';
      ch.onmessage = (ev) => this.received(id, ev.data);
      ch.onopen = () => { if (this.pc === pc && this.channels.every((c) => c.readyState === 'open')) this.setState('open'); };
      ch.onclose = () => this.lost(pc, `data channel ${label} closed`);
      return ch;
    });
    pc.onconnectionstatechange = () => { if (pc.connectionState === 'failed') this.lost(pc, 'data connection failed'); };
    await pc.setLocalDescription(await pc.createOffer());
    const data = await e.request('openData', { sdp: pc.localDescription.sdp });
    if (this.pc !== pc) return;
    await pc.setRemoteDescription({ type: 'answer', sdp: data.sdp });
    // Resolved once the four channels are open (ICE, DTLS and SCTP done).
    await new Promise((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        // Closed or replaced meanwhile (off, left): nothing more to wait for.
        if (this.pc !== pc || this.state === 'open') { clearInterval(poll); resolve(); }
        else if (Date.now() - started > kOpenMs) {
          clearInterval(poll);
          this.lost(pc, `the data connection did not open within ${kOpenMs} ms`);
          reject(new ParleyError(ErrorCode.DATA_CHANNEL_FAILED, 'the data connection did not open'));
        }
      }, 20);
    });
  }

  // The connection `pc` failed while current: reported, and opened again while the
  // engine stays in the channel with data messages on.
  lost(pc, why) {
    if (this.pc !== pc) return;
    this.close('failed');
    const e = this.engine;
    e.fail(ErrorCode.DATA_CHANNEL_FAILED, why);
    const call = e.callCount;
    setTimeout(() => { if (call === e.callCount && e.channel && e.dataEnabled && this.pc === null) e.background(this.open()); }, kRetryMs);
  }

  received(id, data) {
    let userId, payload;
    if (typeof data === 'string') {
      const at = data.indexOf(':');
      if (at < 0) return;
      userId = data.slice(0, at);
      payload = data.slice(at + 1);
    } else {
      const bytes = new Uint8Array(data);
      const at = bytes.indexOf(0x3a);  // ':'
      if (at < 0) return;
      userId = decoder.decode(bytes.subarray(0, at));
      payload = bytes.slice(at + 1);
    }
    const heard = this.engine.heardFrom;
    if (heard && heard.size < 4096) heard.add(userId);
    this.engine.emit('dataMessage', { userId, data: payload, reliable: id < 2, ordered: id % 2 === 0 });
  }

  /** Sends `data` (a string, an ArrayBuffer or a typed array) to `to` ('' = the
   * channel). Throws a ParleyError: 0x0F070003 not open, 0x0F070004 no such member,
   * 0x0F070001 over 64 KiB, 0x0F070002 over the rate. */
  send(data, { to = '', reliable = true, ordered = true } = {}) {
    const fail = (code, why) => { throw new ParleyError(code, why); };
    if (this.state !== 'open') fail(ErrorCode.DATA_CHANNEL_NOT_OPEN, `the data connection is ${this.state}`);
    if (typeof to !== 'string' || (to && !this.engine.remoteUsers.has(to) && !this.engine.heardFrom?.has(to))) fail(ErrorCode.DATA_USER_NOT_IN_CHANNEL, `${to} is not in the channel`);
    const text = typeof data === 'string';
    const bytes = text ? encoder.encode(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : data instanceof ArrayBuffer ? new Uint8Array(data) : null;
    if (!bytes) throw new TypeError('sendDataMessage: data must be a string, an ArrayBuffer or a typed array');
    if (bytes.length > kMaxDataPayload) fail(ErrorCode.DATA_MESSAGE_TOO_LARGE, `${bytes.length} bytes (at most ${kMaxDataPayload})`);
    const now = performance.now();
    const room = this.messages.allows(1, now);
    if (!this.bytes.allows(bytes.length, now) || !room) fail(ErrorCode.DATA_MESSAGE_RATE_LIMITED, 'over 256 messages or 4 MiB a second');
    this.messages.spend(1);
    this.bytes.spend(bytes.length);
    const ch = this.channels[(reliable ? 0 : 2) + (ordered ? 0 : 1)];
    if (text) {
      ch.send(`${to}:${data}`);
    } else {
      const head = encoder.encode(to);
      const out = new Uint8Array(head.length + 1 + bytes.length);
      out.set(head);
      out[head.length] = 0x3a;
      out.set(bytes, head.length + 1);
      ch.send(out);
    }
  }

  close(state = 'closed') {
    const pc = this.pc;
    this.pc = null;
    for (const ch of this.channels) { ch.onclose = null; ch.close(); }
    this.channels = [];
    pc?.close();
    this.setState(state);
  }
}
