#include "impl/gst/recorder.hpp"

#include <chrono>

#include "impl/gst/pipelines.hpp"
#include "parley/proto/errc.hpp"
#include "parley/proto/vocabulary.hpp"

namespace parley::sdk::gst {

RecordingFormat RecordingFormatFor(const std::string& encoding) {
  if (encoding == "OPUS") return {"rtpopusdepay ! opusparse ! oggmux", "ogg"};
  if (encoding == "VP8") return {"rtpvp8depay ! webmmux", "webm"};
  if (encoding == "H264") return {"rtph264depay ! h264parse ! matroskamux", "mkv"};
  return {};
}

Recorder::Recorder(GstElement* pipeline, std::string dir, RecordFn on_record, const MediaErrorFn* on_error)
    : pipeline_(pipeline), dir_(std::move(dir)), on_record_(std::move(on_record)), on_error_(on_error) {}

void Recorder::Add(GstElement* tee, const RemoteTrackInfo& info, const std::string& encoding) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closing_) return;
  RecordingFormat format = RecordingFormatFor(encoding);
  if (format.chain.empty()) return;
  std::string base = TrackId(info.user_id.empty() ? std::string_view("unknown") : info.user_id, info.track);
  for (char& c : base)
    if (c == '/' || c == '\\' || c == '\0') c = '_';
  int n = ++names_[base];
  std::string path = dir_ + "/" + base + (n > 1 ? "-" + std::to_string(n) : "") + "." + format.ext;
  std::string desc = "queue name=rec max-size-time=2000000000 max-size-bytes=0 max-size-buffers=0 ! " + format.chain +
                     " ! filesink name=file location=" + Quoted(path);
  GstElement* bin = gst_parse_bin_from_description(desc.c_str(), TRUE, nullptr);  // floating
  if (!bin) return;
  gst_bin_add(GST_BIN(pipeline_), bin);
  if (!gst_element_sync_state_with_parent(bin)) {
    gst_element_set_state(bin, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(pipeline_), bin);
    if (on_error_ && *on_error_)
      (*on_error_)(static_cast<int32_t>(Errc::kSubscribeStreamRuntimeError), "cannot record to " + path);
    return;
  }
  GstPtr<GstPad> out = Adopt(gst_element_request_pad_simple(tee, "src_%u"));
  GstPtr<GstPad> in = Adopt(gst_element_get_static_pad(bin, "sink"));
  gst_pad_link(out.get(), in.get());
  heads_.push_back(Adopt(gst_bin_get_by_name(GST_BIN(bin), "rec")));
  if (on_record_) on_record_(info, path);
}

void Recorder::Finish() {
  std::vector<GstElement*> list;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
    for (const auto& head : heads_) list.push_back(head.get());
  }
  if (list.empty()) return;
  for (GstElement* first : list) {
    GstPtr<GstElement> bin = Adopt(GST_ELEMENT(gst_element_get_parent(first)));
    GstPtr<GstElement> file = bin ? Adopt(gst_bin_get_by_name(GST_BIN(bin.get()), "file")) : nullptr;
    if (file) {
      GstPtr<GstPad> pad = Adopt(gst_element_get_static_pad(file.get(), "sink"));
      gst_pad_add_probe(
          pad.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
          [](GstPad*, GstPadProbeInfo* info, gpointer data) -> GstPadProbeReturn {
            if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) != GST_EVENT_EOS) return GST_PAD_PROBE_OK;
            auto* self = static_cast<Recorder*>(data);
            std::lock_guard<std::mutex> lock(self->eos_mu_);
            ++self->eos_count_;
            self->eos_cv_.notify_all();
            return GST_PAD_PROBE_OK;
          },
          this, nullptr);
    }
    GstPtr<GstPad> in = Adopt(gst_element_get_static_pad(first, "sink"));
    gst_pad_send_event(in.get(), gst_event_new_eos());
  }
  std::unique_lock<std::mutex> lock(eos_mu_);
  eos_cv_.wait_for(lock, std::chrono::seconds(3), [&] { return eos_count_ >= list.size(); });
}

}  // namespace parley::sdk::gst
