#include "channel/session.hpp"

#include <gtest/gtest.h>

namespace parley::server {
namespace {

TEST(SessionTable, ResumeTokenFindsTheSessionUntilErased) {
  SessionTable table;
  Session& a = table.Create(5, "tok-a");
  Session& b = table.Create(9, "tok-b");
  EXPECT_EQ(a.id, 5u);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.ByResumeToken("tok-a"), &a);
  EXPECT_EQ(table.ByResumeToken("tok-b"), &b);
  EXPECT_EQ(table.Find(9), &b);
  EXPECT_EQ(table.ByResumeToken("tok-c"), nullptr);
  table.Erase(a);
  EXPECT_EQ(table.ByResumeToken("tok-a"), nullptr);
  EXPECT_EQ(table.Find(5), nullptr);
  EXPECT_EQ(table.ByResumeToken("tok-b"), &b);
  EXPECT_EQ(table.size(), 1u);
}

}  // namespace
}  // namespace parley::server
