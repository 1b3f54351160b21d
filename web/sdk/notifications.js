// What the server tells a parley.js engine unasked (docs/protocol.md, "Notifications"):
// the remote users' state kept on the engine, and the events the application hears.
// Anything malformed or about a user the engine does not know changes nothing.

import { onVolumeIndication } from './volume.js';
import { applyPausedLayers } from './video-config.js';

/** Applies one notification `m` to `engine`. */
export function onNotification(engine, m) {
  switch (m.type) {
    case 'userOnline':
      if (typeof m.user?.userId !== 'string') break;
      engine.remoteUsers.set(m.user.userId, m.user);
      engine.emit('remoteUserOnline', { userId: m.user.userId, user: m.user });
      engine.userQuality(m.user);
      break;
    case 'userOffline':
      engine.remoteUsers.delete(m.userId);
      engine.remoteQuality.left(m.userId);
      engine.playout?.remove(m.userId);
      engine.emit('remoteUserOffline', { userId: m.userId, reason: m.reason });
      break;
    case 'userNetwork':
      engine.warn(m.code, `${m.userId}: ${m.state}`);
      if (engine.remoteUsers.has(m.userId)) {
        engine.emitQuality(m.userId, m.state === 'disconnected' ? engine.remoteQuality.disconnected(m.userId) : engine.remoteQuality.connected(m.userId));
      }
      break;
    // Another user's quality, relayed by the server (only for users we know of).
    case 'networkQuality':
      if (engine.remoteUsers.has(m.userId)) engine.emitQuality(m.userId, engine.remoteQuality.relayed(m.userId, m.up, m.down));
      break;
    case 'trackPublished': {
      const u = engine.remoteUsers.get(m.userId);
      if (u && !u.tracks.includes(m.track)) u.tracks.push(m.track);
      engine.emit('remoteTrackPublished', { userId: m.userId, track: m.track });
      if (engine.autoSubscribe) engine.background(engine.subscribeRemoteUser(m.userId));
      break;
    }
    case 'trackMuted': {
      const u = engine.remoteUsers.get(m.userId);
      if (u) u.muted = m.muted ? [...new Set([...(u.muted || []), m.track])] : (u.muted || []).filter((t) => t !== m.track);
      engine.emit('remoteTrackMuted', { userId: m.userId, track: m.track, muted: !!m.muted });
      break;
    }
    case 'userUpdated':
      if (m.user?.userId) {
        engine.remoteUsers.set(m.user.userId, m.user);
        engine.emit('remoteUserUpdated', { userId: m.user.userId, user: m.user });
      }
      break;
    case 'trackUnpublished': {
      const u = engine.remoteUsers.get(m.userId);
      if (u) u.tracks = u.tracks.filter((t) => t !== m.track);
      if (m.track === 'audio') engine.playout?.remove(m.userId);
      engine.emit('remoteTrackUnavailable', { userId: m.userId, track: m.track });
      break;
    }
    case 'publishAborted': engine.fail(m.code, m.message); break;
    case 'streamAborted':
      engine.warn(m.code, `${m.userId}: ${m.message}`);
      engine.emit('remoteStreamAborted', { userId: m.userId, code: m.code });
      break;
    case 'streamResumed': engine.emit('remoteStreamResumed', { userId: m.userId }); break;
    case 'activeSpeaker': engine.emit('activeSpeaker', { userId: m.userId, levelDbov: m.levelDbov }); break;
    // The server renegotiates the subscribe connection (a remote track went away).
    case 'subscribeOffer': engine.background(engine.applySubscribeOffer(m.sdp)); break;
    // The publish transport could not be established (0x01050201) or broke (0x01050202):
    // report it, and where the network is to blame publish again.
    case 'transportFailed': engine.recoverPublish(m); break;
    // The server's transport to us failed (0x02010402): report it, then subscribe
    // again on a new connection.
    case 'subscribeAborted': engine.recoverSubscriptions(m); break;
    case 'roleUpdated': {
      const u = engine.remoteUsers.get(m.userId);
      if (u) u.role = m.role;
      engine.emit('remoteRoleUpdated', { userId: m.userId, role: m.role });
      break;
    }
    // To the whole channel (with seq) or to this user alone (direct: no seq).
    case 'message':
      if (typeof m.fromUserId === 'string' && typeof m.data === 'string') {
        if (engine.heardFrom && engine.heardFrom.size < 4096) engine.heardFrom.add(m.fromUserId);
        engine.emit('message', { fromUserId: m.fromUserId, data: m.data, direct: m.seq === undefined });
      }
      break;
    // The call's token: 30 s or less left, then expired (removal after removeInMs).
    case 'tokenWillExpire':
      if (Number.isInteger(m.expiresAt)) engine.emit('authInfoWillExpire', { expiresAt: m.expiresAt });
      break;
    case 'tokenExpired':
      if (Number.isInteger(m.removeInMs)) engine.emit('authInfoExpired', { removeInMs: m.removeInMs });
      break;
    case 'volumeIndication': engine.background(onVolumeIndication(engine, m)); break;
    // Publisher economy: the layers of our camera nobody watches, paused by the server.
    case 'publishLayers':
      if (m.track === 'camera' && Array.isArray(m.layers)) {
        engine.pausedLayers = new Set(m.layers.filter((l) => l && typeof l.rid === 'string' && l.active === false).map((l) => l.rid));
        engine.background(applyPausedLayers(engine.publishPc, engine.localStream?.getVideoTracks()[0], engine.video, engine.pausedLayers));
      }
      break;
    case 'sessionRemoved':
      // The server removed us (kicked, app disabled, replaced, ...) and closes the
      // connection: the call is over, so release the camera and microphone and stop
      // the timers now, before anything else can run and report a later failure
      // (a heartbeat on the closed socket) in place of this one.
      engine.endCall();
      engine.emit('sessionRemoved', { code: m.code, reason: m.reason, message: m.message });
      engine.fail(m.code, m.message || (m.reason ? `session removed: ${m.reason}` : undefined));
      break;
    default: break;
  }
}
