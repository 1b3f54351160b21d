// The clock of the control plane. Units that keep time take a `now` of this clock as
// an argument instead of reading it, so their tests drive time without sleeping.
#pragma once

#include <chrono>

namespace parley::server {

using Clock = std::chrono::steady_clock;

}  // namespace parley::server
