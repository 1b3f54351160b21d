// Owning pointers for GStreamer and GLib references: each type is released with its
// own unref (or free), once, when the pointer goes.
//
// Only *transfer-full* references may be adopted: what gst_bin_get_by_name,
// gst_element_get_static_pad, gst_element_get_bus, gst_element_get_clock,
// gst_pad_get_current_caps, gst_caps_new_* or g_object_get return. A new element
// (gst_element_factory_make, gst_parse_bin_from_description, gst_pipeline_new) comes
// with a *floating* reference that the bin it is added to sinks; adopting that one too
// would release the bin's reference. Such an element either goes straight into its bin
// (not owned here), or is taken with Sink, which turns the floating reference into
// ours so that adding it to a bin later takes a reference of the bin's own.
#pragma once

// webrtcbin's library is "unstable API" to GStreamer; we pin the Debian version.
#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API
#endif
#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <memory>
#include <string>

namespace parley::sdk::gst {

struct Unref {
  void operator()(GstElement* p) const { gst_object_unref(p); }
  void operator()(GstPad* p) const { gst_object_unref(p); }
  void operator()(GstBus* p) const { gst_object_unref(p); }
  void operator()(GstClock* p) const { gst_object_unref(p); }
  void operator()(GstElementFactory* p) const { gst_object_unref(p); }
  void operator()(GstDeviceMonitor* p) const { gst_object_unref(p); }
  void operator()(GstDevice* p) const { gst_object_unref(p); }
  void operator()(GstWebRTCRTPTransceiver* p) const { gst_object_unref(p); }
  void operator()(GObject* p) const { g_object_unref(p); }
  void operator()(GstCaps* p) const { gst_caps_unref(p); }
  void operator()(GstBuffer* p) const { gst_buffer_unref(p); }
  void operator()(GstSample* p) const { gst_sample_unref(p); }
  void operator()(GstStructure* p) const { gst_structure_free(p); }
  void operator()(GstWebRTCSessionDescription* p) const { gst_webrtc_session_description_free(p); }
  void operator()(GError* p) const { g_error_free(p); }
  void operator()(GstIterator* p) const { gst_iterator_free(p); }
  void operator()(gchar* p) const { g_free(p); }
};

template <class T>
using GstPtr = std::unique_ptr<T, Unref>;

/// Takes over a transfer-full reference (nullptr stays empty).
template <class T>
GstPtr<T> Adopt(T* p) {
  return GstPtr<T>(p);
}

/// Takes a new, floating GstObject (a just-made element): the floating reference
/// becomes ours. Adding it to a bin afterwards adds the bin's own reference.
template <class T>
GstPtr<T> Sink(T* p) {
  if (p) gst_object_ref_sink(p);
  return GstPtr<T>(p);
}

/// A new reference to an object someone else holds (a borrowed element).
template <class T>
GstPtr<T> Ref(T* p) {
  if (p) gst_object_ref(p);
  return GstPtr<T>(p);
}

/// A GError's message, or `fallback` when there is none.
inline std::string ErrorText(const GError* e, const char* fallback = "?") {
  return e && e->message ? e->message : fallback;
}

}  // namespace parley::sdk::gst
