// Snapshots: the next frame of a video track written as a PNG or JPEG file. The media
// threads only hand over a reference to a frame that a request waits for (a check of
// one atomic counter otherwise); converting, encoding and writing the image happen on
// the snapshot thread, which also answers requests no frame came for in time.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "impl/gst/gst_ptr.hpp"

namespace parley::sdk::gst {

class Snapshots {
 public:
  /// 0, or the code of the failure and what failed; on the snapshot thread.
  using Done = std::function<void(int32_t code, const std::string& message)>;
  /// At most this many requests wait at once; more are answered kSnapshotFailed.
  static constexpr size_t kMaxPending = 8;

  Snapshots();
  ~Snapshots() { Close(); }
  Snapshots(const Snapshots&) = delete;
  Snapshots& operator=(const Snapshots&) = delete;

  /// Stops the snapshot thread: requests still waiting are dropped unanswered (their
  /// engine is going), later ones are answered kSnapshotFailed at once. Idempotent.
  void Close();
  /// The next frame offered for `key` (user id and track, see Key) goes to `path`:
  /// PNG, or JPEG when `jpeg`; none within `timeout`: kSnapshotFailed.
  void Request(const std::string& key, const std::string& path, bool jpeg, std::chrono::milliseconds timeout,
               Done done);
  /// A media thread's frame of `key` (raw video with its caps); taken (a reference)
  /// when a request waits for it. Never blocks on encoding or I/O.
  void Offer(const std::string& key, GstBuffer* buffer, GstCaps* caps);
  /// Whether any request waits for a frame (Offer's own first check, for callers that
  /// would otherwise fetch caps for nothing).
  [[nodiscard]] bool Wanted() const { return waiting_.load(std::memory_order_acquire) > 0; }
  [[nodiscard]] static std::string Key(const std::string& user_id, std::string_view track) {
    return user_id + "/" + std::string(track);
  }

 private:
  struct Job {
    std::string key, path;
    bool jpeg = false;
    std::chrono::steady_clock::time_point deadline;
    Done done;
    GstPtr<GstSample> frame;  ///< set once a frame came
  };
  void Run();
  static void Write(Job& job);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::atomic<int> waiting_{0};  ///< jobs without a frame: the media threads' fast check
  bool stop_ = false;
  std::mutex close_mu_;  ///< one Close joins the thread
  std::thread thread_;
};

}  // namespace parley::sdk::gst
