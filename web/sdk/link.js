// The session's signalling link of the browser SDK: heartbeats, a lost link, and the
// reconnection that resumes the session within the server's grace or gives up. The
// engine (parley.js) owns the state (its signal, channel and timers); these functions
// are its link behaviour, kept apart so that parley.js stays the public API.
//
// The rule, as in the native SDK (sdk/src/call/call.cpp): a ping unanswered for three
// heartbeat intervals reports 0x0102020C and drops the link, because during an outage
// TCP would hold it open, retransmitting, until long after the server's resume grace
// ended. A dropped link warns 0x00000103 and reconnects with a growing backoff; each
// connect is bounded by what is left of the budget (the grace), a resume that timed
// out is reported once per reconnection (0x01020202), success warns 0x00000105, and a
// spent budget or a session the server already removed ends the call with 0x01050202.
import { ErrorCode } from './errors.js';

const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 2000;
const CONNECT_MS = 2000;  // one reconnection's connect, at most

/** Pings every intervalMs; three intervals without the answer drop the link. */
export function startHeartbeat(engine, intervalMs) {
  clearInterval(engine.heartbeat);
  engine.heartbeat = setInterval(() => {
    const signal = engine.signal;
    if (!engine.channel || !signal) return;  // resuming: the resume request is the activity
    signal.request('ping', {}, intervalMs * 3).catch((e) => {
      if (e.code !== ErrorCode.HEARTBEAT_TIMEOUT || signal !== engine.signal || !engine.channel) return;
      engine.fail(e.code, `no answer to heartbeats for ${intervalMs * 3} ms`);
      signal.onClose = () => {};  // this link is given up: its late close is no news
      signal.close();
      linkClosed(engine, signal);
    });
  }, intervalMs);
}

/** The link `signal` closed (or was given up); its pending requests were rejected. */
export function linkClosed(engine, signal) {
  if (signal !== engine.signal) return;
  engine.signal = null;
  if (engine.channel && engine.reconnect && !engine.leaving && !engine.destroyed) {
    engine.warn(ErrorCode.LOCAL_NETWORK_DISCONNECTED);
    engine.linkLost();
    resume(engine, 0);
  } else {
    engine.setState('disconnected');
  }
}

/** One attempt of the reconnection; the next is scheduled after a failure. */
export async function resume(engine, attempt) {
  const graceMs = engine.channel?.resumeGraceMs || 10000;
  const started = engine.resumeStarted || (engine.resumeStarted = Date.now());
  const call = engine.callCount;
  try {
    await engine.open(Math.max(1, Math.min(CONNECT_MS, started + graceMs - Date.now())));
    const data = await engine.request('resume', { resumeToken: engine.channel.resumeToken });
    engine.resumeStarted = 0;
    if (Array.isArray(data.iceServers)) engine.channel.iceServers = data.iceServers;  // fresh credentials
    const changes = reconcile(engine, data.users || []);
    engine.setState('connected');
    engine.warn(ErrorCode.LOCAL_NETWORK_CONNECTED);
    announce(engine, changes);
    // Qualities relayed while the link was down are in the snapshot.
    for (const u of data.users || []) engine.userQuality(u);
  } catch (e) {
    if (call !== engine.callCount || !engine.channel) return;  // left or destroyed meanwhile
    const removed = e?.code === ErrorCode.SESSION_REMOVED;
    if (removed || Date.now() - started > graceMs) {
      engine.resumeStarted = 0;
      engine.endCall();
      engine.setState('failed');
      engine.fail(ErrorCode.MEDIA_CONNECTION_RECONNECT_FAILED, `reconnection failed: ${removed ? `the server had already removed the session (${e.message})`
        : `not resumed within ${graceMs} ms after ${attempt + 1} attempt${attempt ? 's' : ''}`}`);
      return;
    }
    if (e?.code === ErrorCode.TIMEOUT_RESUME) {
      if (engine.timeoutReportedFor !== started) engine.emitError(e);
      engine.timeoutReportedFor = started;  // the reconnection (by its start) that reported it
      engine.signal?.close();  // the timed-out socket stays open: the next attempt opens its own
      engine.signal = null;
    }
    setTimeout(() => resume(engine, attempt + 1), Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt));
  }
}

/**
 * After a resume the notifications sent while the link was down are lost, so the
 * snapshot decides who is there and what they publish (as the native SDK's
 * Call::Reconcile): users it no longer lists left meanwhile, users it lists that were
 * unknown came, and known users may publish tracks they did not before.
 */
export function reconcile(engine, users) {
  const changes = { left: [], came: [], newTracks: [] };
  const listed = new Set();
  for (const u of users) {
    if (typeof u?.userId !== 'string' || u.userId === engine.channel?.userId) continue;
    listed.add(u.userId);
    const before = engine.remoteUsers.get(u.userId);
    engine.remoteUsers.set(u.userId, u);
    if (!before) changes.came.push(u);
    else if ((u.tracks || []).some((t) => !(before.tracks || []).includes(t))) changes.newTracks.push(u.userId);
  }
  for (const id of [...engine.remoteUsers.keys()]) {
    if (listed.has(id)) continue;
    engine.remoteUsers.delete(id);
    engine.remoteQuality.left(id);
    engine.playout?.remove(id);
    changes.left.push(id);
  }
  return changes;
}

function announce(engine, { left, came, newTracks }) {
  for (const id of left) engine.emit('remoteUserOffline', { userId: id, reason: 'left' });
  for (const u of came) engine.emit('remoteUserOnline', { userId: u.userId, user: u });
  if (!engine.autoSubscribe) return;
  for (const u of came) if (u.tracks?.length) engine.background(engine.subscribeRemoteUser(u.userId));
  for (const id of newTracks) engine.background(engine.subscribeRemoteUser(id));
}
