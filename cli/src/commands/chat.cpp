#include "commands/chat.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace parley::cli {

std::pair<std::string, std::string> MessageTarget(const std::string& line) {
  if (line.size() > 1 && line[0] == '@') {
    auto space = line.find(' ');
    if (space != std::string::npos && space > 1) return {line.substr(1, space - 1), line.substr(space + 1)};
  }
  return {"", line};
}

ChatReader::ChatReader(std::function<void(const std::string&)> send)
    : send_(std::move(send)), thread_([this] { Run(); }) {}

ChatReader::~ChatReader() {
  stop_ = true;
  thread_.join();
}

void ChatReader::Run() {
  std::string pending;
  char buf[4096];
  while (!stop_) {
    pollfd p{0, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return;
    if (r == 0) continue;
    ssize_t n = ::read(0, buf, sizeof buf);
    if (n <= 0) return;  // end of input (or an error): nothing more to send
    pending.append(buf, static_cast<size_t>(n));
    for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) send_(line);
    }
    // No newline in 64 KiB: not a chat line (the SDK refuses more than 4096 bytes anyway).
    if (pending.size() > 65536) pending.clear();
  }
}

}  // namespace parley::cli
