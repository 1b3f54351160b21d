#include "impl/gst/jitter_start.hpp"

#include "impl/gst/gst_ptr.hpp"

namespace parley::sdk::gst {
namespace {

// Gives a jitter buffer the configured latency, again if it changed meanwhile (the
// subscriber sets the value before webrtcbin's, which rtpbin hands every jitter buffer).
void TakeLatency(GstElement* jitterbuffer, const std::atomic<guint>& configured) {
  for (guint ms = configured.load();;) {
    g_object_set(jitterbuffer, "latency", ms, nullptr);
    const guint now = configured.load();
    if (now == ms) break;
    ms = now;
  }
}

// The stream has started: its first packet leaves (src pad), or its second arrives
// (sink pad; the first arrival only counts).
GstPadProbeReturn OnStarted(GstPad* pad, GstPadProbeInfo*, gpointer configured) {
  GstPtr<GstElement> jitterbuffer = Adopt(gst_pad_get_parent_element(pad));
  if (!jitterbuffer) return GST_PAD_PROBE_REMOVE;
  if (GST_PAD_IS_SINK(pad) && !g_object_get_data(G_OBJECT(pad), "parley-arrived")) {
    g_object_set_data(G_OBJECT(pad), "parley-arrived", pad);
    return GST_PAD_PROBE_OK;
  }
  TakeLatency(jitterbuffer.get(), *static_cast<const std::atomic<guint>*>(configured));
  return GST_PAD_PROBE_REMOVE;
}

}  // namespace

void StartWithFirstPacket(GstElement* jitterbuffer, const std::atomic<guint>* configured) {
  g_object_set(jitterbuffer, "latency", 0u, nullptr);
  const auto data_only = GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST);
  auto* user = const_cast<std::atomic<guint>*>(configured);  // GLib's user data is not const
  if (GstPtr<GstPad> out = Adopt(gst_element_get_static_pad(jitterbuffer, "src")))
    gst_pad_add_probe(out.get(), data_only, &OnStarted, user, nullptr);
  if (GstPtr<GstPad> in = Adopt(gst_element_get_static_pad(jitterbuffer, "sink")))
    gst_pad_add_probe(in.get(), data_only, &OnStarted, user, nullptr);
}

}  // namespace parley::sdk::gst
