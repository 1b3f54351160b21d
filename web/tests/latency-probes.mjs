// The latency probes in a Chromium page (page.evaluate: each function is sent as source
// and may use only its argument and the page's globals). The markers are those of
// bench/latency_probe.hpp, so a browser and a native client read each other's:
//  - video: the top third of each frame is a grid of 8 x 4 black or white blocks, the
//    low 16 bits of the capture time in ms (wall clock) and their complement; the
//    receiver's delay is (display time - code) mod 65536;
//  - audio: a 1 kHz burst of 50 ms starts on every whole wall-clock second; the
//    receiver's delay is the onset's play time mod 1000.
// The page's wall clock is performance.timeOrigin + performance.now(), which on one
// machine is the native client's system clock.

// Joins with `token` as `user` and publishes a camera and a microphone made of markers
// (getUserMedia answers with them: a canvas drawn and captured at 30 fps, a Web Audio
// oscillator gated to bursts); reads the markers of every remote camera and audio it
// receives. window.latency = { video: [{ from, ms }], audio: [...], phases: [{ phase, ms }] }.
export async function latencyParticipant({ token, user, publish = true }) {
  const wall = () => performance.timeOrigin + performance.now();
  const out = { video: [], audio: [], phases: [], errors: [] };
  window.latency = out;

  // ---- the senders ----
  const W = 640, H = 360;
  const canvas = document.createElement('canvas');
  canvas.width = W; canvas.height = H;
  const g = canvas.getContext('2d');
  const camera = canvas.captureStream(0).getVideoTracks()[0];
  const cameras = [];  // what getUserMedia handed out
  let n = 0;
  const draw = () => {
    g.fillStyle = '#3c3c3c'; g.fillRect(0, 0, W, H);
    g.fillStyle = '#dcdcdc'; g.fillRect((n++ * 8) % (W - 40), H / 2, 40, H / 2);  // motion to code
    const code = Math.floor(wall()) & 0xffff;
    const bits = (code | ((~code & 0xffff) << 16)) >>> 0;
    const gh = Math.floor(H / 3);
    for (let b = 0; b < 32; b++) {
      g.fillStyle = (bits >>> b) & 1 ? '#ffffff' : '#000000';
      const x0 = Math.floor(((b & 7) * W) / 8), x1 = Math.floor((((b & 7) + 1) * W) / 8);
      const y0 = Math.floor(((b >> 3) * gh) / 4), y1 = Math.floor((((b >> 3) + 1) * gh) / 4);
      g.fillRect(x0, y0, x1 - x0, y1 - y0);
    }
    for (const t of cameras) if (t.readyState === 'live') t.requestFrame();  // captured now, with the time it carries
  };
  window.latencyDraw = setInterval(draw, 33);

  const ctx = new AudioContext({ sampleRate: 48000 });
  await ctx.resume();
  const osc = new OscillatorNode(ctx, { frequency: 1000 });
  const gate = new GainNode(ctx, { gain: 0 });
  const mic = new MediaStreamAudioDestinationNode(ctx, { channelCount: 1 });
  osc.connect(gate).connect(mic);
  osc.start();
  // Each whole second's burst, scheduled ahead in the context's time: the context
  // renders (and the track takes) its samples as its clock reaches them.
  let scheduled = Math.ceil(wall() / 1000) * 1000;
  const schedule = () => {
    const now = wall(), t0 = ctx.currentTime;
    for (; scheduled < now + 1500; scheduled += 1000) {
      const at = t0 + (scheduled - now) / 1000;
      if (at <= t0 + 0.01) continue;
      gate.gain.setValueAtTime(12000 / 32768, at);
      gate.gain.setValueAtTime(0, at + 0.05);
    }
  };
  schedule();
  window.latencySchedule = setInterval(schedule, 250);
  // Each capture gets its own copies (the engine stops what it no longer publishes).
  const micTrack = mic.stream.getAudioTracks()[0];
  navigator.mediaDevices.getUserMedia = async (c) => new MediaStream(
    [...(c.audio ? [micTrack.clone()] : []), ...(c.video ? [cameras[cameras.push(camera.clone()) - 1]] : [])]);

  // ---- the readers ----
  const reader = document.createElement('canvas');
  const rg = reader.getContext('2d', { willReadFrequently: true });
  const readVideo = (from, video) => {
    let last = -1;
    const onFrame = (_now, meta) => {
      const w = video.videoWidth, h = video.videoHeight;
      if (w >= 32 && h >= 24) {
        if (reader.width !== w || reader.height !== h) { reader.width = w; reader.height = h; }
        rg.drawImage(video, 0, 0, w, h);
        const gh = Math.floor(h / 3), bw = Math.floor(w / 8), bh = Math.floor(gh / 4);
        const px = rg.getImageData(0, 0, w, gh).data;
        let bits = 0, ok = true;
        for (let b = 0; b < 32 && ok; b++) {
          const cx = (b & 7) * bw + (bw >> 1), cy = (b >> 3) * bh + (bh >> 1);
          let sum = 0, count = 0;
          for (let y = cy - (bh >> 2); y <= cy + (bh >> 2); y++) {
            for (let x = cx - (bw >> 2); x <= cx + (bw >> 2); x++, count++) {
              const i = (y * w + x) * 4;
              sum += 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
            }
          }
          const mean = sum / count;
          if (mean > 80 && mean < 170) ok = false;
          else if (mean >= 170) bits = (bits | (1 << b)) >>> 0;
        }
        const code = bits & 0xffff;
        if (ok && ((~code) & 0xffff) === (bits >>> 16) && code !== last) {
          last = code;
          const shown = performance.timeOrigin + meta.expectedDisplayTime;  // on screen then
          out.video.push({ from, ms: (((Math.floor(shown) - code) % 65536) + 65536) % 65536 + (shown % 1) });
        }
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };
  // Remote audio through Web Audio, timed when the context plays it (getOutputTimestamp
  // maps its clock to the page's): an AudioWorklet finds each burst's onset.
  const listen = new AudioContext({ sampleRate: 48000 });
  await listen.resume();
  out.playoutLatencyMs = () => (listen.baseLatency + listen.outputLatency) * 1000;  // the context's own share
  const worklet = `registerProcessor('onsets', class extends AudioWorkletProcessor {
    constructor() { super(); this.lastLoud = -1; }
    process(inputs) {
      const ch = inputs[0] && inputs[0][0];
      if (ch) for (let i = 0; i < ch.length; i++) {
        if (Math.abs(ch[i]) <= 3000 / 32768) continue;
        const t = currentTime + i / sampleRate;
        if (this.lastLoud < 0 || t - this.lastLoud >= 0.3) this.port.postMessage(t);
        this.lastLoud = t;
      }
      return true;
    }
  });`;
  await listen.audioWorklet.addModule(URL.createObjectURL(new Blob([worklet], { type: 'application/javascript' })));
  const readAudio = (from, stream) => {
    const el = new Audio();  // Chromium feeds a remote track to Web Audio only while an element plays it
    el.muted = true; el.srcObject = stream; el.play().catch(() => {});
    const node = new AudioWorkletNode(listen, 'onsets');
    listen.createMediaStreamSource(stream).connect(node);
    node.port.onmessage = ({ data: t }) => {
      const { contextTime, performanceTime } = listen.getOutputTimestamp();
      const played = performance.timeOrigin + performanceTime + (t - contextTime) * 1000;
      out.audio.push({ from, ms: ((played % 1000) + 1000) % 1000 });
    };
  };

  const { createEngine } = await import('/sdk/parley.js');
  const engine = createEngine();
  window.engine = engine;
  engine.on('startupPhase', (p) => out.phases.push(p));
  engine.on('error', (e) => out.errors.push(e.hex));
  engine.on('remoteTrackAvailable', ({ userId, kind, track, stream }) => {
    if (kind === 'video' && track !== 'screen') {
      const v = document.createElement('video');
      v.autoplay = true; v.muted = true; v.playsInline = true; v.srcObject = stream;
      document.body.append(v);
      readVideo(userId, v);
    } else if (kind === 'audio') {
      readAudio(userId, stream);
    }
  });
  await engine.joinChannel(token, user);
  if (publish) {
    await engine.publishLocalAudioStream(true);
    await engine.publishLocalVideoStream(true);
  }
}
