// Messages typed in a terminal for `parley join` (--message, --chat): who a line is for,
// and a reader of standard input that never blocks the call.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <utility>

namespace parley::cli {

/// "@bob hi" → {"bob", "hi"}; anything else goes to the whole channel ({"", line}).
std::pair<std::string, std::string> MessageTarget(const std::string& line);

/// --chat: lines from standard input, read without blocking the call (poll, 100 ms),
/// each handed to `send` (on the reader's thread); empty lines are skipped. Stops at
/// the end of input, or when destroyed.
class ChatReader {
 public:
  explicit ChatReader(std::function<void(const std::string&)> send);
  ~ChatReader();
  ChatReader(const ChatReader&) = delete;
  ChatReader& operator=(const ChatReader&) = delete;

 private:
  void Run();
  std::function<void(const std::string&)> send_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace parley::cli
