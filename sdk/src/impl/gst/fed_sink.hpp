// A renderer or a speaker: its own small pipeline fed from an appsrc, so a window that
// cannot open or a speaker that disappears fails alone — never the connection whose
// media it plays. Failures arrive through on_error with the codes of the element
// names: "render" 0x01040201 / 0x01040202, "speaker" 0x01040405 / 0x01040407.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <memory>
#include <string>

#include "impl/gst/bus.hpp"
#include "impl/gst/gst_ptr.hpp"

namespace parley::sdk::gst {

class FedSink {
 public:
  /// `sink`: a description such as kRenderSink; `window`: the native
  /// window of its "render" element (0: none). nullptr when it does not start.
  static std::unique_ptr<FedSink> Open(const std::string& sink, uint64_t window, MediaErrorFn on_error);
  ~FedSink();
  FedSink(const FedSink&) = delete;
  FedSink& operator=(const FedSink&) = delete;
  /// Plays `buffer` (a new reference is taken) of `caps`. A streaming thread.
  void Push(GstBuffer* buffer, GstCaps* caps);

 private:
  FedSink() = default;
  GstPtr<GstElement> pipeline_;
  GstPtr<GstElement> src_;
  GstCaps* caps_ = nullptr;  // what src_ was told last
  MediaErrorFn on_error_;
  BusState bus_;
};

}  // namespace parley::sdk::gst
