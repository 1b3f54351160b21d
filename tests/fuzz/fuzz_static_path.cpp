// Fuzzes the static-file path resolver: whatever the request path, the file it maps to
// lies inside the web root (the property the path-traversal fix rests on).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "http/router.hpp"

namespace {

namespace fs = std::filesystem;

// A small web root with a subfolder, an index and a symlink that points out of it.
const std::string& Root() {
  static const std::string root = [] {
    std::string base = (fs::temp_directory_path() / ("parley-fuzz-web-" + std::to_string(getpid()))).string();
    fs::create_directories(base + "/web/sdk");
    std::ofstream(base + "/web/index.html") << "home";
    std::ofstream(base + "/web/sdk/a.js") << "a";
    std::ofstream(base + "/secret") << "secret";
    std::error_code ec;
    fs::create_symlink(base + "/secret", base + "/web/leak", ec);
    fs::create_directory_symlink("/etc", base + "/web/etc", ec);
    return fs::canonical(base + "/web").string();
  }();
  return root;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 512) return 0;
  std::string path(reinterpret_cast<const char*>(data), size);
  std::string decoded;
  (void)parley::server::PercentDecode(path, &decoded);
  std::string redirect;
  auto file = parley::server::ResolveStaticPath(Root(), path, &redirect);
  if (file) {
    std::string f = file->string();
    if (f.compare(0, Root().size(), Root()) != 0 || (f.size() > Root().size() && f[Root().size()] != '/'))
      __builtin_trap();  // escaped the root
    if (!redirect.empty() && (redirect[0] != '/' || redirect.rfind("//", 0) == 0)) __builtin_trap();
  }
  return 0;
}
