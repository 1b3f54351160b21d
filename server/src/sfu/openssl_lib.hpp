// OpenSSL as one library with one owner: its process-wide initialisation and its
// per-thread error queue live here, so no other file has to know about either.
#pragma once

#include <string>

namespace parley::sfu {

class OpenSsl {
 public:
  /// Loads the error strings and algorithms of libssl; once per process, any thread.
  /// OpenSSL 3 would also do this lazily on first use, but doing it up front keeps
  /// that first use (the DTLS certificate) free of hidden global work and makes the
  /// one-time allocations happen at start-up, where the leak suppressions expect them.
  static void Init();
  /// Empties this thread's error queue and returns its entries as one message, oldest
  /// first and joined by "; ". OpenSSL keeps errors per thread, so a failure left in
  /// the queue would be blamed on the next unrelated call on that thread: take all.
  static std::string TakeErrors();
};

}  // namespace parley::sfu
