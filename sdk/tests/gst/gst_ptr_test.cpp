// GObject references: an adopted (transfer-full) reference is released exactly once,
// and a new element's floating reference is sunk, never released twice once a bin
// has taken its own.
#include "impl/gst/gst_ptr.hpp"

#include <gtest/gtest.h>

#include "impl/gst/devices.hpp"

namespace parley::sdk::gst {
namespace {

int Refs(gpointer o) {
  return static_cast<int>(GST_OBJECT_REFCOUNT_VALUE(o));
}

TEST(GstPtr, AdoptUnrefsOnceAndFloatingRefsAreSunk) {
  ASSERT_TRUE(InitMedia());
  bool bin_gone = false, element_gone = false;
  {
    GstPtr<GstElement> bin = Sink(gst_bin_new("b"));
    EXPECT_FALSE(g_object_is_floating(bin.get()));
    EXPECT_EQ(Refs(bin.get()), 1);
    g_object_weak_ref(
        G_OBJECT(bin.get()), [](gpointer gone, GObject*) { *static_cast<bool*>(gone) = true; }, &bin_gone);
    {
      GstPtr<GstElement> e = Sink(gst_element_factory_make("identity", "e"));
      ASSERT_TRUE(e);
      EXPECT_FALSE(g_object_is_floating(e.get()));
      EXPECT_EQ(Refs(e.get()), 1);
      g_object_weak_ref(
          G_OBJECT(e.get()), [](gpointer gone, GObject*) { *static_cast<bool*>(gone) = true; }, &element_gone);
      ASSERT_TRUE(gst_bin_add(GST_BIN(bin.get()), e.get()));
      EXPECT_EQ(Refs(e.get()), 2);  // ours and the bin's
    }
    EXPECT_FALSE(element_gone);  // the bin's reference remains
    {
      // gst_bin_get_by_name is transfer full: adopted, released once.
      GstPtr<GstElement> found = Adopt(gst_bin_get_by_name(GST_BIN(bin.get()), "e"));
      ASSERT_TRUE(found);
      EXPECT_EQ(Refs(found.get()), 2);
      GstPtr<GstPad> pad = Adopt(gst_element_get_static_pad(found.get(), "sink"));
      ASSERT_TRUE(pad);
      EXPECT_EQ(Refs(pad.get()), 2);  // the element's and ours
    }
    GstPtr<GstElement> again = Adopt(gst_bin_get_by_name(GST_BIN(bin.get()), "e"));
    EXPECT_EQ(Refs(again.get()), 2);
    again.reset();
    EXPECT_FALSE(element_gone);
    EXPECT_FALSE(Adopt(gst_bin_get_by_name(GST_BIN(bin.get()), "nothing")));
  }
  EXPECT_TRUE(bin_gone);
  EXPECT_TRUE(element_gone);

  // Mini objects and GLib allocations have their own release.
  GstCaps* caps = gst_caps_new_empty_simple("audio/x-raw");
  gst_caps_ref(caps);
  { GstPtr<GstCaps> owned = Adopt(caps); }
  EXPECT_EQ(GST_MINI_OBJECT_REFCOUNT_VALUE(caps), 1);
  gst_caps_unref(caps);
  GstPtr<gchar> text = Adopt(g_strdup("x"));
  EXPECT_STREQ(text.get(), "x");
  GstPtr<GError> err = Adopt(g_error_new_literal(GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "why"));
  EXPECT_EQ(ErrorText(err.get()), "why");
  EXPECT_EQ(ErrorText(nullptr, "none"), "none");
}

}  // namespace
}  // namespace parley::sdk::gst
