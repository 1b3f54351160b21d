#include "sfu/srtp_lib.hpp"

#include <srtp2/srtp.h>

#include <mutex>
#include <string>

namespace parley::sfu {

Status LibSrtp::Init() {
  static std::once_flag once;
  static srtp_err_status_t status = srtp_err_status_ok;
  std::call_once(once, [] { status = srtp_init(); });
  if (status != srtp_err_status_ok)
    return MakeError(Errc::kInternalError, "srtp_init failed: error " + std::to_string(static_cast<int>(status)));
  return {};
}

}  // namespace parley::sfu
