// A video track's frames thinned to the rate its adaptation allows, frame by frame as
// they arrive, never held.
//
// Frames from an application or a screen are stamped as they are captured, at their
// own pace: faster than the track's rate (a 60 fps producer on a 30 fps track, the
// camera's frames on the small dual-stream layer) or slower (a paused file, a producer
// that stalls). videorate in drop-only mode keeps a grid that starts at the stream's
// start and moves one period per frame it lets through: behind a slow start or a stall
// it lags real time and lets every frame through until it has caught up (seconds or
// minutes at the producer's full rate). The thinner is a token bucket on the frames'
// timestamps instead: a frame's worth of credit accrues per period of the rate the
// capsfilter `vadapt` names now (SendRate changes it), a frame and a half at most is
// saved (no burst after a stall), and a frame leaves if the credit covers four fifths
// of it (a late frame's surplus pays for the early one after it: capture jitter costs
// no frame). videorate, after it, then only converts the caps and rarely has anything
// to drop.
//
// Threading: the probe runs on the streaming thread; its state is that thread's alone.
#pragma once

#include <gst/gst.h>

namespace parley::sdk::gst {

/// Thins the frames entering `videorate` (of the bin's AdaptiveVideo) to the frame rate
/// of `capsfilter` (its `vadapt`). Both are the caller's; the probe keeps references.
void ThinToAllowedRate(GstElement* videorate, GstElement* capsfilter);

}  // namespace parley::sdk::gst
