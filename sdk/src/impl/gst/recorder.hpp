// Recording of a subscribe connection's streams: each received stream is written as it
// came (depayloaded and muxed, never re-encoded) to <dir>/<user>-<track>.{ogg,webm,mkv},
// through a branch off the stream's tee. At the end each branch gets EOS and the
// recorder waits (bounded) for it to reach the file: the muxers write their headers'
// durations and indexes on EOS.
#pragma once

#include <gst/gst.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "impl/gst/bus.hpp"
#include "impl/gst/gst_ptr.hpp"
#include "impl/track_ids.hpp"

namespace parley::sdk::gst {

/// The depayload-and-mux chain for an RTP encoding and its file extension; an empty
/// chain for an encoding we do not record.
struct RecordingFormat {
  std::string chain, ext;
};
RecordingFormat RecordingFormatFor(const std::string& encoding);

class Recorder {
 public:
  using RecordFn = std::function<void(const RemoteTrackInfo&, const std::string& path)>;
  /// `on_error` (kSubscribeStreamRuntimeError when a file cannot be written) and the
  /// pipeline outlive the recorder's branches; the pipeline is stopped before the
  /// recorder goes (its probes point here).
  Recorder(GstElement* pipeline, std::string dir, RecordFn on_record, const MediaErrorFn* on_error);
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  /// Records the stream `tee` splits (a streaming thread); nothing once Finish began.
  void Add(GstElement* tee, const RemoteTrackInfo& info, const std::string& encoding);
  /// EOS into each branch, then waits up to 3 s until it reached every file.
  void Finish();

 private:
  GstElement* pipeline_;
  std::string dir_;
  RecordFn on_record_;
  const MediaErrorFn* on_error_;
  std::mutex mu_;
  std::vector<GstPtr<GstElement>> heads_;  ///< each branch's first element (under mu_)
  bool closing_ = false;                   ///< Finish began: no new branches (under mu_)
  std::map<std::string, int> names_;       ///< file names used, for -2, -3 … (under mu_)
  // Branches whose EOS reached the file, counted by pad probes in Finish.
  std::mutex eos_mu_;
  std::condition_variable eos_cv_;
  size_t eos_count_ = 0;
};

}  // namespace parley::sdk::gst
