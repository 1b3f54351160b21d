// Replacing one part of a running pipeline while the rest keeps running: a new
// microphone or camera in front of the same encoder and connection (no renegotiation,
// the receivers see one continuous track), a new speaker behind the same mix. The pad
// in front of the cut is blocked (the next buffer waits there), the old part is
// unlinked, stopped and removed, the new one added, linked and started, and the flow
// resumes through it.
//
// Threading: called from one control thread (the engine's), never a streaming
// thread; each call waits at most half a second for a buffer to be held.
#pragma once

#include <gst/gst.h>

#include <string>

#include "parley/proto/result.hpp"

namespace parley::sdk::gst {

/// A bin from a gst-launch description whose one unlinked pad of `direction` is
/// ghosted as "src" or "sink" (floating: Sink() it to keep it; nullptr with `error`
/// set when it cannot be built).
GstElement* PartFromDescription(const std::string& desc, GstPadDirection direction, std::string* error);

/// Replaces `old_part`, whose pad "src" feeds `into`, with `part` (from
/// PartFromDescription with GST_PAD_SRC), in `parent`; the caller keeps its references
/// to both. Failures to pause or link carry `fail`; a new device that cannot open
/// reports on the pipeline's bus, as any device does.
Status ReplaceSource(GstBin* parent, GstElement* old_part, GstElement* part, GstPad* into, Errc fail);

/// Replaces `old_part`, fed by `from` into its pad "sink", with `part` (from
/// PartFromDescription with GST_PAD_SINK), in `parent`.
Status ReplaceSink(GstBin* parent, GstPad* from, GstElement* old_part, GstElement* part, Errc fail);

}  // namespace parley::sdk::gst
