// The signalling connection of the browser SDK: one WebSocket to /v1/signal, requests
// with ids and per-type timeouts, replies matched to their requests, everything else
// handed on as a notification (docs/protocol.md). It knows nothing about channels or
// media: the engine (parley.js) decides what a notification or a lost connection means.
import { ErrorCode } from './errors.js';
import { ParleyError } from './parley-error.js';
import { TIMEOUT_CODE } from './protocol.js';

export class SignalConnection {
  /**
   * Opens `${server}/v1/signal`. Resolves once the socket is open; rejects with
   * SIGNAL_REQUEST_ERROR when the server cannot be reached, or not within timeoutMs
   * (when given: a connect into a cut network would otherwise wait for TCP to give up).
   * handlers: { onNotification(message), onClose() } — onClose runs once, after every
   * pending request was rejected.
   */
  static async open(server, handlers, timeoutMs) {
    const ws = new WebSocket(`${server}/v1/signal`);
    let timer;
    try {
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new ParleyError(ErrorCode.SIGNAL_REQUEST_ERROR, `cannot reach ${server}`));
        if (timeoutMs) {
          timer = setTimeout(() => {
            ws.close();
            reject(new ParleyError(ErrorCode.SIGNAL_REQUEST_ERROR, `cannot reach ${server} within ${timeoutMs} ms`));
          }, timeoutMs);
        }
      });
    } finally {
      clearTimeout(timer);
    }
    return new SignalConnection(ws, handlers);
  }

  constructor(ws, { onNotification, onClose }) {
    this.ws = ws;
    this.nextId = 1;
    this.pending = new Map();  // id -> { resolve, reject, timer, type }
    this.onNotification = onNotification;
    this.onClose = onClose;
    ws.onmessage = (e) => this.receive(e.data);
    ws.onclose = () => this.closed();
  }

  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  /** Sends a request; resolves with the reply's data ({} when it has none), rejects with
   * a ParleyError: the reply's code (and data.detail), or the request type's timeout
   * code when no reply comes within timeoutMs. */
  request(type, fields, timeoutMs) {
    if (!this.isOpen) {
      return Promise.reject(new ParleyError(ErrorCode.SIGNAL_REQUEST_ERROR, 'not connected to the server'));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ParleyError(TIMEOUT_CODE[type] || ErrorCode.SIGNAL_REQUEST_ERROR, `${type} timed out`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, type });
      this.ws.send(JSON.stringify({ type, id, ...fields }));
    }).then((r) => {
      if (r.code !== 0) throw new ParleyError(r.code, r.message, r.data && Number.isInteger(r.data.detail) ? r.data.detail : 0);
      return r.data || {};
    });
  }

  /** Closes the socket; pending requests are rejected when the close completes. */
  close() { this.ws.close(); }

  receive(text) {
    let m;
    try { m = JSON.parse(text); } catch { return; }  // not JSON: not ours to answer
    if (m.type !== 'response') {
      this.onNotification(m);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;  // timed out already
    clearTimeout(p.timer);
    this.pending.delete(m.id);
    p.resolve(m);
  }

  closed() {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ParleyError(ErrorCode.SIGNAL_REQUEST_ERROR, 'connection closed'));
    }
    this.pending.clear();
    this.onClose();
  }
}
