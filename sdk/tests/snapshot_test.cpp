// Snapshots through a real call: Alice publishes SMPTE colour bars, Bob snapshots her
// camera as received (PNG) and Alice her own (JPEG); the images are decoded again and
// their size and colours checked. Wrong arguments are refused at once; a track that
// sends nothing, and a path that cannot be written, are answered 0x0F060001.
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "engine_support.hpp"
#include "parley/proto/errc.hpp"

namespace parley {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// An image file decoded to RGB by GStreamer: its size and pixels (empty: unreadable).
struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
  [[nodiscard]] const uint8_t* At(int x, int y) const {
    return rgb.data() + (static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) * 3;
  }
};

Image Decode(const fs::path& file) {
  Image img;
  const std::string ext = file.extension().string();
  const char* decoder = ext == ".jpg" || ext == ".jpeg" ? "jpegdec" : "pngdec";
  const std::string desc = "filesrc location=\"" + file.string() + "\" ! typefind ! " + decoder +
                           " ! videoconvert ! video/x-raw,format=RGB ! appsink name=sink sync=false";
  GstElement* pipeline = gst_parse_launch(desc.c_str(), nullptr);
  if (!pipeline) return img;
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  if (GstSample* s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 5 * GST_SECOND)) {
    const GstStructure* st = gst_caps_get_structure(gst_sample_get_caps(s), 0);
    gst_structure_get_int(st, "width", &img.width);
    gst_structure_get_int(st, "height", &img.height);
    GstMapInfo map;
    GstBuffer* buf = gst_sample_get_buffer(s);
    // RGB rows are padded to 4 bytes: copy row by row.
    const size_t stride = (static_cast<size_t>(img.width) * 3 + 3) & ~size_t{3};
    if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
      for (int y = 0; y < img.height; ++y)
        img.rgb.insert(img.rgb.end(), map.data + static_cast<size_t>(y) * stride,
                       map.data + static_cast<size_t>(y) * stride + static_cast<size_t>(img.width) * 3);
      gst_buffer_unmap(buf, &map);
    }
    gst_sample_unref(s);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return img;
}

TEST(Snapshot, RemoteAndLocalVideoAreWrittenAsImagesAndFailuresAnswered) {
  const fs::path dir = fs::temp_directory_path() / ("parley-snap-" + std::to_string(getpid()));
  fs::create_directories(dir);
  test::ServerProcess server;
  App app = CreateApp(server);
  EngineConfig acfg = Config(server, "null");
  acfg.video_source = "test:bars";
  acfg.video.width = 320;
  acfg.video.height = 240;
  EngineConfig bcfg = Config(server, "null");
  bcfg.video_source = "null";
  Probe pa, pb;
  std::unique_ptr<RtcEngine, void (*)(RtcEngine*)> alice(RtcEngine::Create(acfg), &RtcEngine::Destroy);
  std::unique_ptr<RtcEngine, void (*)(RtcEngine*)> bob(RtcEngine::Create(bcfg), &RtcEngine::Destroy);
  ASSERT_TRUE(alice && bob);
  alice->SetEngineEventListener(&pa);
  bob->SetEngineEventListener(&pb);
  bob->SetMediaFrameObserver(&pb);
  EXPECT_EQ(bob->TakeSnapshot("alice", TrackKind::kCamera, (dir / "early.png").string()), Code(Errc::kNotInChannel));
  ASSERT_EQ(alice->JoinChannel(Auth(app, "snap", "alice"), "Alice"), 0);
  ASSERT_EQ(bob->JoinChannel(Auth(app, "snap", "bob"), "Bob"), 0);
  ASSERT_TRUE(pb.WaitFor([&] { return pb.frames["alice"] >= 10; }, 20s)) << "no video from alice";

  // Refused at once.
  EXPECT_EQ(bob->TakeSnapshot("alice", TrackKind::kAudio, (dir / "a.png").string()), Code(Errc::kInvalidField));
  EXPECT_EQ(bob->TakeSnapshot("alice", TrackKind::kCamera, (dir / "a.gif").string()), Code(Errc::kInvalidField));
  EXPECT_EQ(bob->TakeSnapshot("alice", TrackKind::kCamera, ""), Code(Errc::kInvalidField));
  EXPECT_EQ(bob->TakeSnapshot("alice", TrackKind::kCamera, (dir / ".png").string()), Code(Errc::kInvalidField));

  const fs::path remote = dir / "alice.PNG", local = dir / "me.jpg", nothing = dir / "nobody.png",
                 unwritable = dir / "no-such-dir" / "x.png";
  ASSERT_EQ(bob->TakeSnapshot("alice", TrackKind::kCamera, remote.string()), 0);
  ASSERT_EQ(alice->TakeSnapshot("", TrackKind::kCamera, local.string()), 0);
  ASSERT_EQ(bob->TakeSnapshot("carol", TrackKind::kCamera, nothing.string()), 0);
  ASSERT_EQ(bob->TakeSnapshot("alice", TrackKind::kScreen, (dir / "screen.png").string()), 0);
  ASSERT_EQ(bob->TakeSnapshot("alice", TrackKind::kCamera, unwritable.string()), 0);
  EXPECT_TRUE(pb.WaitFor([&] { return pb.snapshots.size() == 4; }, 10s)) << pb.snapshots.size() << " answers";
  EXPECT_TRUE(pa.WaitFor([&] { return pa.snapshots.size() == 1; }, 10s));
  auto answer = [](Probe& p, const fs::path& f) {
    return p.Locked([&] { return p.snapshots.count(f.string()) ? p.snapshots[f.string()].second : -1; });
  };
  EXPECT_EQ(answer(pb, remote), 0);
  EXPECT_EQ(answer(pa, local), 0);
  EXPECT_EQ(answer(pb, nothing), Code(Errc::kSnapshotFailed));
  EXPECT_EQ(answer(pb, dir / "screen.png"), Code(Errc::kSnapshotFailed));
  EXPECT_EQ(answer(pb, unwritable), Code(Errc::kSnapshotFailed));
  EXPECT_FALSE(fs::exists(nothing));
  EXPECT_FALSE(fs::exists(unwritable.string() + ".part"));

  // The images: 320x240 colour bars, the first bar white (a light grey), the second
  // yellow
  // (JPEG and VP8 blur edges and shift levels: sampled mid-bar, with slack).
  for (const fs::path& f : {remote, local}) {
    SCOPED_TRACE(f.string());
    Image img = Decode(f);
    ASSERT_EQ(img.width, 320);
    ASSERT_EQ(img.height, 240);
    const uint8_t* grey = img.At(320 / 14, 60);
    const uint8_t* yellow = img.At(320 * 3 / 14, 60);
    for (int c = 0; c < 3; ++c) EXPECT_GT(grey[c], 170) << "channel " << c;
    EXPECT_NEAR(grey[0], grey[1], 25);
    EXPECT_NEAR(grey[1], grey[2], 25);
    EXPECT_GT(yellow[0], 150);
    EXPECT_GT(yellow[1], 150);
    EXPECT_LT(yellow[2], 80);
  }
  std::printf("snapshots: %s %ju bytes, %s %ju bytes\n", remote.filename().c_str(),
              static_cast<uintmax_t>(fs::file_size(remote)), local.filename().c_str(),
              static_cast<uintmax_t>(fs::file_size(local)));
  alice.reset();  // before the probes
  bob.reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace parley
