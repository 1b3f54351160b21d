// Snapshots in the browser: the next frame of a MediaStreamTrack drawn on a canvas and
// encoded as PNG or JPEG (what TakeSnapshot writes to a file natively).
import { ErrorCode } from './errors.js';
import { ParleyError } from './parley-error.js';

/** Resolves with a Blob of `type` ('image/png' or 'image/jpeg') holding the track's
 * next frame, at the size it is received or captured; rejects with 0x0F060001 when no
 * frame comes within `timeoutMs`. */
export async function snapshotOf(track, type = 'image/png', timeoutMs = 3000) {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([track]);
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new ParleyError(ErrorCode.SNAPSHOT_FAILED, 'no frame arrived in time')), timeoutMs);
  });
  try {
    const frame = new Promise((resolve) => {
      if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(() => resolve());
      else video.addEventListener('loadeddata', () => resolve(), { once: true });
    });
    await Promise.race([video.play().then(() => frame), late]);
    if (!video.videoWidth || !video.videoHeight) throw new ParleyError(ErrorCode.SNAPSHOT_FAILED, 'the frame has no size');
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext('2d').drawImage(video, 0, 0);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, type, 0.92));
    if (!blob) throw new ParleyError(ErrorCode.SNAPSHOT_FAILED, 'the frame could not be encoded');
    return blob;
  } finally {
    clearTimeout(timer);
    video.pause();
    video.srcObject = null;
  }
}
