#include "sfu/srtp_lib.hpp"

#include <srtp2/srtp.h>

#include <mutex>
#include <string>

namespace parley::sfu {

Status LibSrtp::Init() {
  static std::once_flag once;
  static srtp_err_status_t status = srtp_err_status_ok;
  std::call_once(once, [] { status = srtp_init(); });
  // libsrtp is process-wide, and another user in the process may have initialised it
  // first: GStreamer's srtp plugin does when libparley runs beside an embedded server
  // (`parley demo`). srtp_init then fails with bad_param when it registers its debug
  // module a second time, yet the crypto kernel is up and sessions work.
  if (status != srtp_err_status_ok && status != srtp_err_status_bad_param)
    return MakeError(Errc::kInternalError, "srtp_init failed: error " + std::to_string(static_cast<int>(status)));
  return {};
}

}  // namespace parley::sfu
