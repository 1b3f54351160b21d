#include "media/media.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace parley::sdk::media {

ImageType ImageTypeOf(const std::string& path) {
  std::string lower = path;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  // The extension, with a file name before it (".png" alone, "dir/.png" are not).
  auto ends = [&](std::string_view tail) {
    return lower.size() > tail.size() && lower.compare(lower.size() - tail.size(), tail.size(), tail) == 0 &&
           lower[lower.size() - tail.size() - 1] != '/';
  };
  if (ends(".png")) return ImageType::kPng;
  if (ends(".jpg") || ends(".jpeg")) return ImageType::kJpeg;
  return ImageType::kNone;
}

}  // namespace parley::sdk::media
