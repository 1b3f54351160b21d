#include "media_file.hpp"

#include <unistd.h>

#include <regex>

#include "run_command.hpp"

namespace parley::test {

std::string MakeTestWebm(const std::string& name, int seconds, int freq) {
  std::string path = "/tmp/parley-" + name + "-" + std::to_string(getpid()) + ".webm";
  auto made = RunCommand({"/usr/bin/gst-launch-1.0",
                          "-q",
                          "webmmux",
                          "name=m",
                          "!",
                          "filesink",
                          "location=" + path,
                          "videotestsrc",
                          "num-buffers=" + std::to_string(15 * seconds),
                          "pattern=smpte",
                          "!",
                          "video/x-raw,width=320,height=240,framerate=15/1",
                          "!",
                          "vp8enc",
                          "!",
                          "m.",
                          "audiotestsrc",
                          "num-buffers=" + std::to_string(seconds * 48000 / 1024),
                          "samplesperbuffer=1024",
                          "freq=" + std::to_string(freq),
                          "!",
                          "audioconvert",
                          "!",
                          "opusenc",
                          "!",
                          "m."});
  return made.status == 0 ? path : "";
}

std::string MakeTestWav(const std::string& name, double seconds, int freq) {
  std::string path = "/tmp/parley-" + name + "-" + std::to_string(getpid()) + ".wav";
  auto made =
      RunCommand({"/usr/bin/gst-launch-1.0", "-q", "audiotestsrc",
                  "num-buffers=" + std::to_string(static_cast<int>(seconds * 44100 / 441)), "samplesperbuffer=441",
                  "volume=0.5", "freq=" + std::to_string(freq), "!", "audio/x-raw,rate=44100,channels=2,format=S16LE",
                  "!", "wavenc", "!", "filesink", "location=" + path});
  return made.status == 0 ? path : "";
}

double DiscoverSeconds(const std::string& path) {
  auto r = RunCommand({"/usr/bin/gst-discoverer-1.0", path});
  std::smatch m;
  std::regex re("Duration: (\\d+):(\\d+):(\\d+\\.\\d+)");
  if (r.status != 0 || !std::regex_search(r.out, m, re)) return -1;
  return std::stod(m[1]) * 3600 + std::stod(m[2]) * 60 + std::stod(m[3]);
}

}  // namespace parley::test
