// The data connection on webrtcbin: a pipeline of webrtcbin alone with Parley's four
// negotiated data channels (docs/protocol.md, "Data messages": ids 0..3, reliable or
// not, ordered or not) and no media. We offer; the server answers (openData).
//
// Threading: CreateOffer and SetAnswer are called from the engine thread and block,
// each wait bounded (5 s); Send from any thread. Callbacks run on GStreamer threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "media/media.hpp"
#include "parley/proto/result.hpp"

namespace parley::sdk::gst {

class DataLink {
 public:
  static Result<std::unique_ptr<DataLink>> Create(const media::IceSetup& ice, media::DataCallbacks callbacks);
  ~DataLink();
  DataLink(const DataLink&) = delete;
  DataLink& operator=(const DataLink&) = delete;

  Result<std::string> CreateOffer();
  Status SetAnswer(const std::string& sdp);
  bool Send(int channel, bool text, const std::vector<uint8_t>& bytes);

 private:
  DataLink() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::sdk::gst
