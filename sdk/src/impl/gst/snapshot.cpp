#include "impl/gst/snapshot.hpp"

#include <gst/video/video.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "parley/proto/errc.hpp"

namespace parley::sdk::gst {
namespace {

constexpr int32_t kFailed = static_cast<int32_t>(Errc::kSnapshotFailed);

}  // namespace

Snapshots::Snapshots() : thread_([this] { Run(); }) {}

void Snapshots::Close() {
  std::lock_guard<std::mutex> closing(close_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Snapshots::Request(const std::string& key, const std::string& path, bool jpeg, std::chrono::milliseconds timeout,
                        Done done) {
  const char* why = "too many snapshots are waiting";
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) why = "the engine is stopping";
    if (jobs_.size() < kMaxPending && !stop_) {
      jobs_.push_back({key, path, jpeg, std::chrono::steady_clock::now() + timeout, std::move(done), nullptr});
      waiting_.fetch_add(1, std::memory_order_release);
      cv_.notify_all();
      return;
    }
  }
  done(kFailed, why);
}

void Snapshots::Offer(const std::string& key, GstBuffer* buffer, GstCaps* caps) {
  if (waiting_.load(std::memory_order_acquire) == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  bool taken = false;
  for (Job& j : jobs_)
    if (!j.frame && j.key == key) {
      // One sample (a reference to the buffer, not a copy) for every request of the key.
      j.frame = Adopt(gst_sample_new(buffer, caps, nullptr, nullptr));
      waiting_.fetch_sub(1, std::memory_order_release);
      taken = true;
    }
  if (taken) cv_.notify_all();
}

void Snapshots::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    // A job is done when its frame came or its time is up; the rest wait.
    auto now = std::chrono::steady_clock::now();
    auto ready = std::find_if(jobs_.begin(), jobs_.end(), [&](const Job& j) { return j.frame || j.deadline <= now; });
    if (ready != jobs_.end()) {
      Job job = std::move(*ready);
      jobs_.erase(ready);
      if (!job.frame) waiting_.fetch_sub(1, std::memory_order_release);
      lock.unlock();
      if (job.frame)
        Write(job);
      else
        job.done(kFailed, "no frame of " + job.key + " arrived in time");
      lock.lock();
      continue;
    }
    if (stop_) {
      // Stopping: what still waits is dropped (its engine is going).
      jobs_.clear();
      waiting_.store(0, std::memory_order_release);
      return;
    }
    if (jobs_.empty()) {
      cv_.wait(lock);
    } else {
      auto next = std::min_element(jobs_.begin(), jobs_.end(), [](const Job& a, const Job& b) {
                    return a.deadline < b.deadline;
                  })->deadline;
      cv_.wait_until(lock, next);
    }
  }
}

void Snapshots::Write(Job& job) {
  GstPtr<GstCaps> image = Adopt(gst_caps_new_empty_simple(job.jpeg ? "image/jpeg" : "image/png"));
  GError* raw_err = nullptr;
  GstPtr<GstSample> encoded = Adopt(gst_video_convert_sample(job.frame.get(), image.get(), 5 * GST_SECOND, &raw_err));
  GstPtr<GError> err = Adopt(raw_err);
  GstBuffer* buf = encoded ? gst_sample_get_buffer(encoded.get()) : nullptr;
  GstMapInfo map;
  if (!buf || !gst_buffer_map(buf, &map, GST_MAP_READ))
    return job.done(kFailed, std::string("the frame could not be encoded: ") + (err ? err->message : "no image"));
  // Written beside the target and renamed: a reader never sees half an image.
  const std::string tmp = job.path + ".part";
  bool ok = false;
  if (FILE* f = std::fopen(tmp.c_str(), "wb")) {
    ok = std::fwrite(map.data, 1, map.size, f) == map.size;
    ok = std::fclose(f) == 0 && ok;
  }
  gst_buffer_unmap(buf, &map);
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, job.path, ec);
  if (!ok || ec) {
    std::filesystem::remove(tmp, ec);
    return job.done(kFailed, "cannot write " + job.path);
  }
  job.done(0, "");
}

}  // namespace parley::sdk::gst
