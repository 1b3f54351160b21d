// An engine in a call whose signalling is a scripted socket: what the engine sends is
// recorded, and the test answers requests and delivers notifications itself. Shared by
// the unit tests of the engine's in-call behaviour.
import { SignalConnection } from '../sdk/signal.js';
import { createEngine } from '../sdk/parley.js';

export class ScriptedSocket {
  constructor() { this.readyState = 1; this.sent = []; this.closed = 0; }
  send(text) { this.sent.push(JSON.parse(text)); }
  close() { this.closed++; }
  // Answers the last request of `type`.
  reply(type, code, message = '') {
    const m = this.sent.filter((x) => x.type === type).pop();
    this.onmessage({ data: JSON.stringify({ type: 'response', id: m.id, code, message }) });
  }
  notify(obj) { this.onmessage({ data: JSON.stringify(obj) }); }
}
globalThis.WebSocket ??= { OPEN: 1 };

// A connected engine with `channel` and `users` (the remote users it knows); a lost
// socket reaches the engine's onClose when `closes` is set.
export function scriptedCall({ channel = { resumeToken: 'r1' }, users = [], closes = false } = {}) {
  const engine = createEngine({ server: 'ws://test' });
  const ws = new ScriptedSocket();
  const signal = new SignalConnection(ws, {
    onNotification: (m) => engine.onNotification(m),
    onClose: () => { if (closes) engine.onClose(signal); },
  });
  engine.signal = signal;
  engine.channel = channel;
  engine.state = 'connected';
  engine.remoteUsers = new Map(users.map((u) => [u.userId, u]));
  return { engine, ws };
}
