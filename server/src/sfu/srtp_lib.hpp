// libsrtp2 as one library with one owner: srtp_init() must run once per process
// before any session is created, and only one place may decide when.
#pragma once

#include "parley/proto/result.hpp"

namespace parley::sfu {

class LibSrtp {
 public:
  /// Initialises libsrtp once per process (thread-safe; every later call returns the
  /// first call's outcome, because srtp_init is not safe to call concurrently). An
  /// initialisation by another user of libsrtp in the process (GStreamer) is success.
  /// There is no matching shutdown: media workers may still be creating or using
  /// sessions while the process exits, and srtp_shutdown would pull the crypto
  /// kernel from under them.
  static Status Init();
};

}  // namespace parley::sfu
