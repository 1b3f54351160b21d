// Drop reasons and their counters: every reason has its own /metrics label, and the
// counters add up per reason.
#include "sfu/drop_counters.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace parley::sfu {
namespace {

TEST(DropCounters, EveryReasonHasAMetricName) {
  std::set<std::string> names;
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    std::string name(Name(static_cast<DropReason>(i)));
    EXPECT_NE(name, "unknown") << "reason " << i << " has no name";
    EXPECT_FALSE(name.empty());
    for (char c : name) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '-') << name;  // a Prometheus label value
    EXPECT_TRUE(names.insert(name).second) << name << " names two reasons";
  }
  EXPECT_EQ(names.size(), kDropReasonCount);
}

TEST(DropCounters, CountsAddUpPerReason) {
  DropCounters d;
  d.Count(DropReason::kDuplicate);
  d.Count(DropReason::kDuplicate);
  d.Count(DropReason::kSendBufferFull, 5);
  EXPECT_EQ(d.Get(DropReason::kDuplicate), 2u);
  EXPECT_EQ(d.Get(DropReason::kSendBufferFull), 5u);
  EXPECT_EQ(d.Get(DropReason::kUnknownSsrc), 0u);
  EXPECT_EQ(d.Total(), 7u);
}

}  // namespace
}  // namespace parley::sfu
