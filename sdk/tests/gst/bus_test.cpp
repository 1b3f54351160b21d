// Bus errors become the catalog's codes by the name of the element (or bin) that
// failed and whether it had opened; each element's error reaches the app once.
#include "impl/gst/bus.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "impl/gst/devices.hpp"
#include "impl/gst/gst_ptr.hpp"
#include "parley/proto/errc.hpp"

namespace parley::sdk::gst {
namespace {

constexpr int32_t kRuntime = 12345;

int32_t C(Errc e) {
  return static_cast<int32_t>(e);
}

class BusCodes : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitMedia());
    bin_ = Sink(gst_bin_new("connection"));
    for (const char* name : {"camera", "microphone", "speaker", "render", "mediafile", "encoder"})
      gst_bin_add(GST_BIN(bin_.get()), gst_element_factory_make("identity", name));
  }
  void TearDown() override {
    if (bin_) gst_element_set_state(bin_.get(), GST_STATE_NULL);
  }
  GstObject* Child(const char* name) {
    GstPtr<GstElement> e = Adopt(gst_bin_get_by_name(GST_BIN(bin_.get()), name));
    return GST_OBJECT(e.get());  // the bin keeps it alive
  }
  void Open(const char* name) {
    GstPtr<GstElement> e = Adopt(gst_bin_get_by_name(GST_BIN(bin_.get()), name));
    ASSERT_EQ(gst_element_set_state(e.get(), GST_STATE_PAUSED), GST_STATE_CHANGE_SUCCESS);
  }
  GstPtr<GstElement> bin_;
};

TEST_F(BusCodes, ElementNamesAndOpenStateMapToDeviceCodes) {
  GError* not_found = g_error_new_literal(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "gone");
  GError* denied = g_error_new_literal(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "denied");
  GError* other = g_error_new_literal(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED, "failed");
  // Not opened yet (below PAUSED): the open codes, refined by the error for devices.
  EXPECT_EQ(CodeFor(Child("microphone"), denied, kRuntime), C(Errc::kAudioRecordNoPermission));
  EXPECT_EQ(CodeFor(Child("microphone"), not_found, kRuntime), C(Errc::kAudioRecordDeviceNotFound));
  EXPECT_EQ(CodeFor(Child("microphone"), other, kRuntime), C(Errc::kAudioRecordDeviceOpenFailed));
  EXPECT_EQ(CodeFor(Child("speaker"), not_found, kRuntime), C(Errc::kAudioPlayDeviceNotFound));
  EXPECT_EQ(CodeFor(Child("speaker"), other, kRuntime), C(Errc::kAudioPlayDeviceOpenFailed));
  EXPECT_EQ(CodeFor(Child("camera"), not_found, kRuntime), C(Errc::kCameraOpenFailed));
  EXPECT_EQ(CodeFor(Child("render"), nullptr, kRuntime), C(Errc::kRenderOpenFailed));
  EXPECT_EQ(CodeFor(Child("mediafile"), other, kRuntime), C(Errc::kMediaFileOpenFailed));
  // Anything unnamed is the stream's runtime code.
  EXPECT_EQ(CodeFor(Child("encoder"), not_found, kRuntime), kRuntime);
  EXPECT_EQ(CodeFor(GST_OBJECT(bin_.get()), other, kRuntime), kRuntime);

  // Opened (PAUSED or beyond): the codes of a device that failed while running.
  for (const char* name : {"camera", "microphone", "speaker", "render", "mediafile"}) Open(name);
  EXPECT_EQ(CodeFor(Child("camera"), other, kRuntime), C(Errc::kCameraCaptureError));
  EXPECT_EQ(CodeFor(Child("microphone"), not_found, kRuntime), C(Errc::kAudioRecordError));
  EXPECT_EQ(CodeFor(Child("microphone"), denied, kRuntime), C(Errc::kAudioRecordError));
  EXPECT_EQ(CodeFor(Child("speaker"), not_found, kRuntime), C(Errc::kAudioPlayError));
  EXPECT_EQ(CodeFor(Child("render"), other, kRuntime), C(Errc::kRenderError));
  EXPECT_EQ(CodeFor(Child("mediafile"), other, kRuntime), C(Errc::kMediaFileOpenFailed));

  // An element inside a bin named after a device speaks for that device.
  GstElement* inner_bin = gst_bin_new("camera-branch");
  GstElement* src = gst_element_factory_make("identity", "v4l2");
  gst_bin_add(GST_BIN(inner_bin), src);
  GstPtr<GstElement> outer = Sink(gst_bin_new("camera"));
  gst_bin_add(GST_BIN(outer.get()), inner_bin);
  EXPECT_EQ(CodeFor(GST_OBJECT(src), other, kRuntime), C(Errc::kCameraOpenFailed));
  g_error_free(not_found);
  g_error_free(denied);
  g_error_free(other);
}

TEST_F(BusCodes, AnElementsErrorIsDeliveredOnceWithItsCode) {
  GstPtr<GstElement> pipeline = Sink(gst_pipeline_new("p"));
  GstElement* mic = gst_element_factory_make("identity", "microphone");
  GstElement* enc = gst_element_factory_make("identity", "encoder");
  gst_bin_add_many(GST_BIN(pipeline.get()), mic, enc, nullptr);
  BusState state;
  state.runtime_code = kRuntime;
  std::vector<std::pair<int32_t, std::string>> got;
  MediaErrorFn fn = [&](int32_t code, const std::string& m) { got.emplace_back(code, m); };
  WatchBus(pipeline.get(), &state);
  // A pipeline's bus flushes (drops everything) while the pipeline is in NULL.
  ASSERT_NE(gst_element_set_state(pipeline.get(), GST_STATE_READY), GST_STATE_CHANGE_FAILURE);
  auto post = [](GstElement* e, GQuark domain, gint code) {
    GError* err = g_error_new_literal(domain, code, "broken");
    gst_element_post_message(e, gst_message_new_error(GST_OBJECT(e), err, "debug"));
    g_error_free(err);
  };
  // Before the pipeline runs, the first error is kept for the start's result only.
  post(mic, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(state.last_code, C(Errc::kAudioRecordDeviceNotFound));
  EXPECT_EQ(state.last_message, "microphone: broken");
  state.fn = &fn;
  post(mic, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND);
  post(mic, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND);  // a device repeats itself
  post(enc, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, C(Errc::kAudioRecordDeviceNotFound));
  EXPECT_EQ(got[1], std::make_pair(kRuntime, std::string("encoder: broken")));
  EXPECT_EQ(state.last_code, C(Errc::kAudioRecordDeviceNotFound));  // still the first
  int eos = 0;
  state.on_eos = [&] { ++eos; };
  // End of stream as the pipeline posts it once every sink has finished.
  gst_element_post_message(pipeline.get(), gst_message_new_eos(GST_OBJECT(pipeline.get())));
  EXPECT_EQ(eos, 1);
  SilenceBus(state);
  post(enc, GST_CORE_ERROR, GST_CORE_ERROR_FAILED);
  EXPECT_EQ(got.size(), 2u);
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
}

}  // namespace
}  // namespace parley::sdk::gst
