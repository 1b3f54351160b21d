#include "impl/gst/data_link.hpp"

#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API
#endif
#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <array>
#include <atomic>
#include <mutex>

#include "impl/gst/bus.hpp"
#include "impl/gst/gst_ptr.hpp"
#include "impl/gst/webrtc.hpp"

namespace parley::sdk::gst {
namespace {

constexpr std::array<const char*, 4> kLabels = {"parley-reliable", "parley-reliable-unordered", "parley-unreliable",
                                                "parley-unreliable-unordered"};

}  // namespace

struct DataLink::Impl {
  GstPtr<GstElement> pipeline;
  GstElement* webrtc = nullptr;  // the pipeline's
  media::DataCallbacks cb;
  media::ErrorFn on_error;  // the bus's: errors of webrtcbin (reported as a closed link)
  BusState bus;
  std::mutex mu;  // the channels, against Send from any thread and teardown
  std::array<GstWebRTCDataChannel*, 4> channels{};
  std::array<std::atomic<bool>, 4> open{};
  std::atomic<bool> all_open{false};

  ~Impl() {
    // Stopped first: what the channels report while closing still finds them (and the
    // call ignores it: the connection is already not its own).
    if (pipeline) {
      SilenceBus(bus);
      gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      for (auto*& ch : channels) {
        if (!ch) continue;
        g_signal_handlers_disconnect_by_data(ch, this);
        g_object_unref(ch);
        ch = nullptr;
      }
    }
    pipeline.reset();
  }

  int IndexOf(GstWebRTCDataChannel* ch) {
    for (size_t i = 0; i < channels.size(); ++i)
      if (channels[i] == ch) return static_cast<int>(i);
    return -1;
  }
  void StateChanged() {
    bool now = true;
    for (const auto& o : open) now = now && o.load();
    if (now != all_open.exchange(now) && cb.state) cb.state(now);
  }

  static void OnOpen(GstWebRTCDataChannel* ch, gpointer self) {
    auto* im = static_cast<Impl*>(self);
    int i = im->IndexOf(ch);
    if (i < 0) return;
    im->open[static_cast<size_t>(i)] = true;
    im->StateChanged();
  }
  static void OnClose(GstWebRTCDataChannel* ch, gpointer self) {
    auto* im = static_cast<Impl*>(self);
    int i = im->IndexOf(ch);
    if (i < 0) return;
    im->open[static_cast<size_t>(i)] = false;
    im->StateChanged();
  }
  static void OnError(GstWebRTCDataChannel* ch, GError* /*err*/, gpointer self) { OnClose(ch, self); }
  static void OnString(GstWebRTCDataChannel* ch, const gchar* text, gpointer self) {
    auto* im = static_cast<Impl*>(self);
    int i = im->IndexOf(ch);
    if (i < 0 || !im->cb.message) return;
    // A C string: a text payload ends at its first U+0000 (the envelope's separator is
    // a colon for that reason, docs/protocol.md).
    std::string_view s = text ? std::string_view(text) : std::string_view();
    im->cb.message(i, true, std::vector<uint8_t>(s.begin(), s.end()));
  }
  static void OnData(GstWebRTCDataChannel* ch, GBytes* bytes, gpointer self) {
    auto* im = static_cast<Impl*>(self);
    int i = im->IndexOf(ch);
    if (i < 0 || !im->cb.message) return;
    gsize n = 0;
    const auto* p = static_cast<const uint8_t*>(bytes ? g_bytes_get_data(bytes, &n) : nullptr);
    im->cb.message(i, false, p ? std::vector<uint8_t>(p, p + n) : std::vector<uint8_t>());
  }
};

Result<std::unique_ptr<DataLink>> DataLink::Create(const std::vector<std::string>& ice_addresses,
                                                   media::DataCallbacks callbacks) {
  std::unique_ptr<DataLink> d(new DataLink());
  d->impl_ = std::make_unique<Impl>();
  Impl& im = *d->impl_;
  im.cb = std::move(callbacks);
  im.pipeline = Sink(gst_pipeline_new("parley-data"));
  im.webrtc = MakeWebrtc(ice_addresses);
  if (!im.webrtc) return MakeError(Errc::kInitMissingPlugin, "webrtcbin is missing");
  gst_bin_add(GST_BIN(im.pipeline.get()), im.webrtc);
  im.on_error = [&im](int32_t, const std::string&) {
    for (auto& o : im.open) o = false;
    im.StateChanged();
  };
  im.bus.fn = &im.on_error;
  im.bus.runtime_code = static_cast<int32_t>(Errc::kMediaConnectionCreateFailed);
  WatchBus(im.pipeline.get(), &im.bus);
  if (gst_element_set_state(im.pipeline.get(), GST_STATE_READY) == GST_STATE_CHANGE_FAILURE)
    return MakeError(Errc::kMediaConnectionCreateFailed, "the data pipeline did not start");
  // Negotiated channels (no DCEP), made before the offer so that it has its SCTP section.
  for (size_t i = 0; i < kLabels.size(); ++i) {
    bool reliable = i < 2, ordered = i % 2 == 0;
    GstStructure* opts =
        gst_structure_new("data-channel-options", "negotiated", G_TYPE_BOOLEAN, TRUE, "id", G_TYPE_INT,
                          static_cast<int>(i), "ordered", G_TYPE_BOOLEAN, ordered ? TRUE : FALSE, nullptr);
    if (!reliable) gst_structure_set(opts, "max-retransmits", G_TYPE_INT, 0, nullptr);
    GstWebRTCDataChannel* ch = nullptr;
    g_signal_emit_by_name(im.webrtc, "create-data-channel", kLabels[i], opts, &ch);
    gst_structure_free(opts);
    if (!ch) return MakeError(Errc::kMediaConnectionCreateFailed, "webrtcbin made no data channel");
    im.channels[i] = ch;
    g_signal_connect(ch, "on-open", G_CALLBACK(&Impl::OnOpen), &im);
    g_signal_connect(ch, "on-close", G_CALLBACK(&Impl::OnClose), &im);
    g_signal_connect(ch, "on-error", G_CALLBACK(&Impl::OnError), &im);
    g_signal_connect(ch, "on-message-string", G_CALLBACK(&Impl::OnString), &im);
    g_signal_connect(ch, "on-message-data", G_CALLBACK(&Impl::OnData), &im);
  }
  if (gst_element_set_state(im.pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return MakeError(Errc::kMediaConnectionCreateFailed, "the data pipeline did not start");
  return d;
}

DataLink::~DataLink() = default;

Result<std::string> DataLink::CreateOffer() {
  return CreateLocal(impl_->webrtc, true);
}

Status DataLink::SetAnswer(const std::string& sdp) {
  return SetDescription(impl_->webrtc, "set-remote-description", GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
}

bool DataLink::Send(int channel, bool text, const std::vector<uint8_t>& bytes) {
  if (channel < 0 || channel >= 4 || !impl_->open[static_cast<size_t>(channel)]) return false;
  std::lock_guard<std::mutex> lock(impl_->mu);
  GstWebRTCDataChannel* ch = impl_->channels[static_cast<size_t>(channel)];
  if (!ch) return false;
  GError* err = nullptr;
  gboolean ok = FALSE;
  if (text) {
    // webrtcbin takes a C string (the engine refuses text with U+0000 in it).
    std::string s(bytes.begin(), bytes.end());
    ok = gst_webrtc_data_channel_send_string_full(ch, s.c_str(), &err);
  } else {
    GBytes* b = g_bytes_new(bytes.data(), bytes.size());
    ok = gst_webrtc_data_channel_send_data_full(ch, b, &err);
    g_bytes_unref(b);
  }
  if (err) g_error_free(err);
  return ok == TRUE;
}

}  // namespace parley::sdk::gst
