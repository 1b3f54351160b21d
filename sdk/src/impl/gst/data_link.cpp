#include "impl/gst/data_link.hpp"

#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API
#endif
#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <array>
#include <memory>
#include <mutex>
#include <string_view>

#include "impl/gst/bus.hpp"
#include "impl/gst/gst_ptr.hpp"
#include "impl/gst/webrtc.hpp"

namespace parley::sdk::gst {
namespace {

constexpr std::array<const char*, 4> kLabels = {"parley-reliable", "parley-reliable-unordered", "parley-unreliable",
                                                "parley-unreliable-unordered"};

// What the channels' signal handlers share with the link. Each handler holds a
// reference (freed with its closure, which GLib keeps while the handler runs), so a
// handler still running when the link goes finds it; the handlers report only under
// `mu` and only until `closed`, so nothing is reported once the link's destructor
// has taken `mu`.
struct Shared {
  std::mutex mu;
  bool closed = false;
  media::DataCallbacks cb;
  std::array<GstWebRTCDataChannel*, 4> channels{};  ///< set before PLAYING, then read only
  std::array<bool, 4> open{};
  bool all_open = false;

  int IndexOf(GstWebRTCDataChannel* ch) const {
    for (size_t i = 0; i < channels.size(); ++i)
      if (channels[i] == ch) return static_cast<int>(i);
    return -1;
  }
  // Under mu.
  void SetOpen(int i, bool now) {
    if (i >= 0) open[static_cast<size_t>(i)] = now;
    bool all = true;
    for (bool o : open) all = all && o;
    if (all != all_open) {
      all_open = all;
      if (cb.state) cb.state(all);
    }
  }

  static Shared* Of(gpointer data) { return static_cast<std::shared_ptr<Shared>*>(data)->get(); }
  static void OnOpen(GstWebRTCDataChannel* ch, gpointer data) {
    Shared* s = Of(data);
    std::lock_guard<std::mutex> lock(s->mu);
    if (!s->closed) s->SetOpen(s->IndexOf(ch), true);
  }
  static void OnClose(GstWebRTCDataChannel* ch, gpointer data) {
    Shared* s = Of(data);
    std::lock_guard<std::mutex> lock(s->mu);
    if (!s->closed) s->SetOpen(s->IndexOf(ch), false);
  }
  static void OnError(GstWebRTCDataChannel* ch, GError* /*err*/, gpointer data) { OnClose(ch, data); }
  static void Deliver(GstWebRTCDataChannel* ch, gpointer data, bool text, const uint8_t* p, size_t n) {
    Shared* s = Of(data);
    std::lock_guard<std::mutex> lock(s->mu);
    int i = s->IndexOf(ch);
    if (s->closed || i < 0 || !s->cb.message) return;
    s->cb.message(i, text, p ? std::vector<uint8_t>(p, p + n) : std::vector<uint8_t>());
  }
  static void OnString(GstWebRTCDataChannel* ch, const gchar* text, gpointer data) {
    // A C string: a text payload ends at its first U+0000 (the envelope's separator is
    // a colon for that reason, docs/protocol.md).
    std::string_view v = text ? std::string_view(text) : std::string_view();
    Deliver(ch, data, true, reinterpret_cast<const uint8_t*>(v.data()), v.size());
  }
  static void OnData(GstWebRTCDataChannel* ch, GBytes* bytes, gpointer data) {
    gsize n = 0;
    const auto* p = static_cast<const uint8_t*>(bytes ? g_bytes_get_data(bytes, &n) : nullptr);
    Deliver(ch, data, false, p, n);
  }
};

template <typename Fn>
void Connect(GstWebRTCDataChannel* ch, const char* signal, Fn fn, const std::shared_ptr<Shared>& shared) {
  g_signal_connect_data(
      ch, signal, G_CALLBACK(fn), new std::shared_ptr<Shared>(shared),
      [](gpointer d, GClosure*) { delete static_cast<std::shared_ptr<Shared>*>(d); }, GConnectFlags(0));
}

}  // namespace

struct DataLink::Impl {
  GstPtr<GstElement> pipeline;
  GstElement* webrtc = nullptr;  // the pipeline's
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  media::ErrorFn on_error;  // the bus's: an error of webrtcbin closes the link
  BusState bus;

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(shared->mu);  // waits for a report under way
      shared->closed = true;
    }
    if (pipeline) {
      SilenceBus(bus);
      gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    }
    // The handlers stay until their channel is finalized, reporting nothing now; their
    // references to `shared` go with them.
    for (GstWebRTCDataChannel* ch : shared->channels)
      if (ch) g_object_unref(ch);
    pipeline.reset();
  }
};

Result<std::unique_ptr<DataLink>> DataLink::Create(const media::IceSetup& ice, media::DataCallbacks callbacks) {
  std::unique_ptr<DataLink> d(new DataLink());
  d->impl_ = std::make_unique<Impl>();
  Impl& im = *d->impl_;
  im.shared->cb = std::move(callbacks);
  im.pipeline = Sink(gst_pipeline_new("parley-data"));
  im.webrtc = MakeWebrtc(ice);
  if (!im.webrtc) return MakeError(Errc::kInitMissingPlugin, "webrtcbin is missing");
  gst_bin_add(GST_BIN(im.pipeline.get()), im.webrtc);
  im.on_error = [s = im.shared](int32_t, const std::string&) {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->closed) return;
    s->open = {};
    s->SetOpen(-1, false);
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
    im.shared->channels[i] = ch;
    Connect(ch, "on-open", &Shared::OnOpen, im.shared);
    Connect(ch, "on-close", &Shared::OnClose, im.shared);
    Connect(ch, "on-error", &Shared::OnError, im.shared);
    Connect(ch, "on-message-string", &Shared::OnString, im.shared);
    Connect(ch, "on-message-data", &Shared::OnData, im.shared);
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
  if (channel < 0 || channel >= 4) return false;
  GstWebRTCDataChannel* ch = nullptr;
  {
    std::lock_guard<std::mutex> lock(impl_->shared->mu);
    if (impl_->shared->closed || !impl_->shared->open[static_cast<size_t>(channel)]) return false;
    ch = impl_->shared->channels[static_cast<size_t>(channel)];
  }
  // Sent outside mu: webrtcbin may report an error on this thread while sending.
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
