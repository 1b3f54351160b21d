// A webrtcbin promise waited for with a bound. gst_promise_wait has no timeout, so a
// webrtcbin that never answers (a stuck streaming thread, a pipeline in error) would
// hang the engine thread. The reply wakes the waiter through the promise's change
// function, whose state is shared with the promise and freed only when the promise
// goes: webrtcbin may reply (and call the function) after the waiter has given up.
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <memory>

namespace parley::sdk::gst {

class BoundedPromise {
 public:
  BoundedPromise();
  ~BoundedPromise();
  BoundedPromise(const BoundedPromise&) = delete;
  BoundedPromise& operator=(const BoundedPromise&) = delete;

  /// The promise to pass to webrtcbin's action signals (borrowed).
  [[nodiscard]] GstPromise* get() const { return promise_; }

  /// Waits up to `timeout` for the reply and returns it (owned by the promise), or
  /// nullptr: no reply in time (the promise is then interrupted, and GStreamer drops
  /// a reply that comes later), an expired promise, or a reply without a structure.
  const GstStructure* Wait(std::chrono::milliseconds timeout);
  /// The last Wait ended because the time ran out.
  [[nodiscard]] bool timed_out() const { return timed_out_; }

 private:
  struct State;
  std::shared_ptr<State> state_;
  GstPromise* promise_ = nullptr;
  bool timed_out_ = false;
};

}  // namespace parley::sdk::gst
