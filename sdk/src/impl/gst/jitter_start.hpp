// A remote stream starts playing with its first packet, not a whole latency later.
//
// rtpjitterbuffer holds a stream's first packet for its whole latency (webrtcbin's
// 200 ms by default) in case an earlier one is still on its way. The server starts each
// video stream on a keyframe's first packet, so there is none worth waiting for: a
// jitter buffer starts with a latency of 0, so its first packet's deadline is its
// arrival, and takes the configured latency as its second packet arrives or its first
// leaves, whichever comes first, so a gap after the first packet waits for its repair
// as long as any later one (a deadline already set is kept when the latency changes).
// rtpjitterbuffer's own fast start (`faststart-min-packets`) is no help: it is looked
// at only as a packet arrives, and while the stream's opening events (stream-start,
// caps, segment) still head the queue it finds no packet there; a kept keyframe
// arrives as one burst before its thread has sent them, and the first picture waited
// for the next frame's first packet (66 ms on a 15 fps layer).
//
// Threading: the probes run on the jitter buffer's own threads, outside its lock;
// the configured latency is an atomic the subscriber sets before it sets webrtcbin's.
#pragma once

#include <gst/gst.h>

#include <atomic>

namespace parley::sdk::gst {

/// Starts `jitterbuffer` (just made by rtpbin for a remote stream) with no latency;
/// once its stream has started it takes `*configured` (which outlives the pipeline),
/// again if that changes meanwhile.
void StartWithFirstPacket(GstElement* jitterbuffer, const std::atomic<guint>* configured);

}  // namespace parley::sdk::gst
