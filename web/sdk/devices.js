// Devices in the browser: the microphone and camera chosen for publishing (switched
// while publishing without a renegotiation: replaceTrack on the same sender), the
// devices the browser offers, and the system's devices coming and going. On each
// 'devicechange' the engine compares the browser's list with the one before and emits
// `deviceStateChanged` ({ kind, deviceId, label, state: 'added' | 'removed' }) for
// each difference; when the microphone or camera in use goes, it raises the contract's
// code (0x01040409 microphone, 0x01040106 camera) and publishes from the browser's
// default device instead. Labels are empty until the page has had media permission.
import { ErrorCode } from './errors.js';

const kKinds = { audioinput: 'microphone', videoinput: 'camera', audiooutput: 'speaker' };

/** The browser's devices now: { microphones, cameras, speakers }, each [{ deviceId, label }]. */
export async function listDevices() {
  const out = { microphones: [], cameras: [], speakers: [] };
  if (!navigator.mediaDevices?.enumerateDevices) return out;
  for (const d of await navigator.mediaDevices.enumerateDevices()) {
    const kind = kKinds[d.kind];
    if (kind && d.deviceId) out[`${kind}s`].push({ deviceId: d.deviceId, label: d.label });
  }
  return out;
}

/** The published microphone ('audio') or camera ('video') from `deviceId` (null: the
 * default) from now on; while publishing, the track is replaced in place. */
export async function switchDevice(engine, kind, deviceId) {
  const previous = engine.devices[kind];
  engine.devices[kind] = deviceId || null;
  const old = kind === 'audio' ? engine.localStream?.getAudioTracks()[0] : engine.localStream?.getVideoTracks()[0];
  if (!old) return;
  let fresh;
  try {
    const s = await navigator.mediaDevices.getUserMedia({ [kind]: engine.mediaConstraints(kind) });
    fresh = kind === 'audio' ? s.getAudioTracks()[0] : s.getVideoTracks()[0];
  } catch (e) {
    engine.devices[kind] = previous;
    throw engine.fail(kind === 'video' ? ErrorCode.CAMERA_OPEN_FAILED : ErrorCode.AUDIO_RECORD_DEVICE_OPEN_FAILED, String(e));
  }
  fresh.enabled = !engine.muted[kind];
  // Published alone the new track replaces the old on its sender; mixed with the
  // screen's sound (./publishing.js), it replaces the old in the mix.
  const sender = engine.publishPc?.getSenders().find((x) => x.track === old);
  if (sender) await sender.replaceTrack(fresh);
  else if (kind === 'audio') engine.audioMix?.replaceMic(old, fresh);
  // Same MediaStream object: previews and tiles showing it pick up the new track.
  engine.localStream.removeTrack(old);
  engine.localStream.addTrack(fresh);
  old.stop();
  engine.emit('localDeviceChanged', { kind, deviceId: fresh.getSettings().deviceId || deviceId });
}

// The devices as one map, kind + id -> { kind, deviceId, label }.
async function snapshot() {
  const all = new Map();
  const list = await listDevices();
  for (const kind of ['microphone', 'camera', 'speaker'])
    for (const d of list[`${kind}s`]) all.set(`${kind}/${d.deviceId}`, { kind, ...d });
  return all;
}

// The device a published track captures from now ('' when there is none).
function inUse(engine, kind) {
  const track = kind === 'microphone' ? engine.localStream?.getAudioTracks()[0] : engine.localStream?.getVideoTracks()[0];
  return track && track.readyState === 'live' ? track.getSettings().deviceId || '' : '';
}

/** Watches the system's devices for `engine`; returns what stops it. */
export function watchDevices(engine) {
  const md = navigator.mediaDevices;
  if (!md?.addEventListener) return () => {};
  let known = null;
  let stopped = false;
  let queue = Promise.resolve();
  const compare = async () => {
    const now = await snapshot();
    if (stopped) return;
    // Before the page may use media the browser hides ids and labels: the first list
    // with labels is a new start, not devices plugged in.
    const labelled = (m) => [...m.values()].some((d) => d.label);
    if (known && !labelled(known) && labelled(now)) known = null;
    if (known) {
      const removed = [...known.values()].filter((d) => !now.has(`${d.kind}/${d.deviceId}`));
      const added = [...now.values()].filter((d) => !known.has(`${d.kind}/${d.deviceId}`));
      const used = { microphone: inUse(engine, 'microphone'), camera: inUse(engine, 'camera') };
      for (const d of added) engine.emit('deviceStateChanged', { ...d, state: 'added' });
      for (const d of removed) engine.emit('deviceStateChanged', { ...d, state: 'removed' });
      for (const d of removed) {
        if (d.kind === 'speaker' || !used[d.kind] || used[d.kind] !== d.deviceId) continue;
        const media = d.kind === 'microphone' ? 'audio' : 'video';
        engine.fail(media === 'audio' ? ErrorCode.AUDIO_RECORD_DEVICE_NOT_FOUND : ErrorCode.CAMERA_CAPTURE_ERROR,
          `the ${d.kind} in use was removed (${d.label || d.deviceId}): using the default`);
        await switchDevice(engine, media, null).catch(() => {});  // its failure was raised
      }
    }
    known = now;
  };
  // One comparison at a time, in the order the events came.
  const onChange = () => { queue = queue.then(compare).catch(() => {}); };
  onChange();  // the list to compare the first change with
  md.addEventListener('devicechange', onChange);
  return () => { stopped = true; md.removeEventListener('devicechange', onChange); };
}
