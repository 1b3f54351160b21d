#include "impl/gst/swap.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "impl/gst/gst_ptr.hpp"

namespace parley::sdk::gst {
namespace {

// Whether a blocking probe has held the pad yet; shared with the probe, which may run
// on a streaming thread after the waiter gave up.
struct Hold {
  std::mutex mu;
  std::condition_variable cv;
  bool held = false;
};

// The hand-over of a Hold to the streaming thread goes through GStreamer's pad lock,
// which race detectors do not see: taking this one on both sides makes it visible.
std::mutex g_hand_over;

// Blocks `pad`: whatever comes next to it (a buffer, an event) waits there until the
// probe goes. Waits up to half a second for something to arrive and be held; a pad
// nothing flows through (a device that stopped) is blocked all the same. The probe's id.
gulong Block(GstPad* pad) {
  std::shared_ptr<Hold>* hold = nullptr;
  std::shared_ptr<Hold> mine;
  {
    std::lock_guard<std::mutex> lock(g_hand_over);
    mine = std::make_shared<Hold>();
    hold = new std::shared_ptr<Hold>(mine);
  }
  gulong id = gst_pad_add_probe(
      pad, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM,
      [](GstPad*, GstPadProbeInfo*, gpointer data) -> GstPadProbeReturn {
        std::shared_ptr<Hold> h;
        {
          std::lock_guard<std::mutex> lock(g_hand_over);
          h = *static_cast<std::shared_ptr<Hold>*>(data);
        }
        {
          std::lock_guard<std::mutex> lock(h->mu);
          h->held = true;
        }
        h->cv.notify_all();
        return GST_PAD_PROBE_OK;  // the probe stays, and what came waits
      },
      hold,
      [](gpointer data) {
        std::lock_guard<std::mutex> lock(g_hand_over);
        delete static_cast<std::shared_ptr<Hold>*>(data);
      });
  std::unique_lock<std::mutex> lock(mine->mu);
  mine->cv.wait_for(lock, std::chrono::milliseconds(500), [&] { return mine->held; });
  return id;
}

}  // namespace

GstElement* PartFromDescription(const std::string& desc, GstPadDirection direction, std::string* error) {
  GError* raw_err = nullptr;
  GstElement* bin = gst_parse_bin_from_description(desc.c_str(), FALSE, &raw_err);  // floating
  GstPtr<GError> err = Adopt(raw_err);
  if (!bin) {
    *error = ErrorText(err.get());
    return nullptr;
  }
  GstPtr<GstPad> pad = Adopt(gst_bin_find_unlinked_pad(GST_BIN(bin), direction));
  if (!pad) {
    gst_object_unref(gst_object_ref_sink(bin));
    *error = "no unlinked pad in '" + desc + "'";
    return nullptr;
  }
  gst_element_add_pad(bin, gst_ghost_pad_new(direction == GST_PAD_SRC ? "src" : "sink", pad.get()));
  return bin;
}

Status ReplaceSource(GstBin* parent, GstElement* old_part, GstElement* part, GstPad* into, Errc fail) {
  GstPtr<GstPad> old_out = Adopt(gst_element_get_static_pad(old_part, "src"));
  GstPtr<GstPad> new_out = Adopt(gst_element_get_static_pad(part, "src"));
  if (!old_out || !new_out) return MakeError(fail, "a source part has no output");
  if (!Block(old_out.get())) return MakeError(fail, "the old source's output cannot be blocked");
  gst_pad_unlink(old_out.get(), into);
  // The old source's buffer waits at the blocked pad: deactivating the pad turns that
  // wait into a flushing return, so the source's thread stops and it can go.
  gst_pad_set_active(old_out.get(), FALSE);
  gst_element_set_state(old_part, GST_STATE_NULL);
  gst_bin_remove(parent, old_part);
  gst_bin_add(parent, part);  // the parent takes a reference of its own
  if (gst_pad_link(new_out.get(), into) != GST_PAD_LINK_OK) {
    gst_bin_remove(parent, part);
    return MakeError(fail, "the new source does not link to what it feeds");
  }
  // A device that cannot open says so on the bus, with its own code.
  gst_element_sync_state_with_parent(part);
  return {};
}

Status ReplaceSink(GstBin* parent, GstPad* from, GstElement* old_part, GstElement* part, Errc fail) {
  GstPtr<GstPad> old_in = Adopt(gst_element_get_static_pad(old_part, "sink"));
  GstPtr<GstPad> new_in = Adopt(gst_element_get_static_pad(part, "sink"));
  if (!old_in || !new_in) return MakeError(fail, "a sink part has no input");
  const gulong block = Block(from);
  if (!block) return MakeError(fail, "the mix's output cannot be blocked");
  gst_pad_unlink(from, old_in.get());
  gst_element_set_state(old_part, GST_STATE_NULL);
  gst_bin_remove(parent, old_part);
  gst_bin_add(parent, part);  // the parent takes a reference of its own
  Status st;
  if (gst_pad_link(from, new_in.get()) != GST_PAD_LINK_OK)
    st = MakeError(fail, "the new sink does not link to the mix");
  else
    gst_element_sync_state_with_parent(part);  // a device that cannot open says so on the bus
  gst_pad_remove_probe(from, block);           // the mix flows on, into the new sink
  return st;
}

}  // namespace parley::sdk::gst
