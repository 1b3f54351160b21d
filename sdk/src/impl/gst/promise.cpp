#include "impl/gst/promise.hpp"

#include <condition_variable>
#include <mutex>

namespace parley::sdk::gst {

struct BoundedPromise::State {
  std::mutex mu;
  std::condition_variable cv;
  bool changed = false;  ///< the promise left PENDING (replied, interrupted or expired)
};

BoundedPromise::BoundedPromise() : state_(std::make_shared<State>()) {
  // The promise holds its own reference to the state (freed by the notify when the
  // promise is finalized), so a change that comes after this object is gone is safe.
  promise_ = gst_promise_new_with_change_func(
      [](GstPromise*, gpointer data) {
        auto& st = **static_cast<std::shared_ptr<State>*>(data);
        {
          std::lock_guard<std::mutex> lock(st.mu);
          st.changed = true;
        }
        st.cv.notify_all();
      },
      new std::shared_ptr<State>(state_), [](gpointer data) { delete static_cast<std::shared_ptr<State>*>(data); });
}

BoundedPromise::~BoundedPromise() {
  // A promise must not be finalized while PENDING. Interrupting one that was replied to
  // meanwhile changes nothing; one that was interrupted or expired is left alone
  // (GStreamer refuses those with a critical warning).
  bool changed;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    changed = state_->changed;
  }
  if (!changed) gst_promise_interrupt(promise_);
  gst_promise_unref(promise_);
}

const GstStructure* BoundedPromise::Wait(std::chrono::milliseconds timeout) {
  {
    std::unique_lock<std::mutex> lock(state_->mu);
    timed_out_ = !state_->cv.wait_for(lock, timeout, [this] { return state_->changed; });
  }
  // On timeout: interrupt, unless the reply won the race (the promise then stays
  // REPLIED and its reply counts).
  if (timed_out_) gst_promise_interrupt(promise_);
  if (gst_promise_wait(promise_) != GST_PROMISE_RESULT_REPLIED) return nullptr;
  timed_out_ = false;
  return gst_promise_get_reply(promise_);
}

}  // namespace parley::sdk::gst
