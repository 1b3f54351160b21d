// Errors (and end of stream) from a pipeline's bus, mapped to the catalog's codes and
// delivered from the thread that posts them (a sync handler: no main loop runs).
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>

namespace parley::sdk::gst {

using MediaErrorFn = std::function<void(int32_t code, const std::string& message)>;

struct BusState {
  MediaErrorFn* fn = nullptr;  ///< where errors go once the pipeline runs (under mu)
  int32_t runtime_code = 0;    ///< the code of an error no named element explains
  std::mutex mu;
  int32_t last_code = 0;  ///< the first error seen, for a failed start
  std::string last_message;
  std::function<void()> on_eos;  ///< set before the pipeline starts
  /// Element messages (a level meter's reports), on the posting thread; set before the
  /// pipeline starts.
  std::function<void(GstMessage*)> on_element;
  std::set<std::string> reported;  ///< elements whose error was delivered
};

/// The catalog code for an error posted by `src`: sources are named after what they
/// open (camera, microphone, speaker, render, mediafile), so a device or file that
/// fails gets its own code, told apart by whether it had opened (reached PAUSED);
/// anything else is `runtime_code`.
int32_t CodeFor(GstObject* src, const GError* err, int32_t runtime_code);

/// Routes `pipeline`'s errors and end of stream to `state`, which must outlive it.
void WatchBus(GstElement* pipeline, BusState* state);

/// Errors of `element` (a name) are delivered again: a new device under the old name.
void Rearm(BusState& state, const std::string& element);

/// Stops delivering a pipeline's errors (before it is torn down).
void SilenceBus(BusState& state);

}  // namespace parley::sdk::gst
