// The engine's event loop: posted work runs in order on the loop's thread, a handler
// that throws is reported once and the loop goes on, and Stop lets queued work run.
#include "core/event_loop.hpp"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace parley::sdk {
namespace {

TEST(EventLoop, PostedWorkRunsInOrderOnTheLoopThread) {
  EventLoop loop(nullptr);
  std::vector<int> ran;
  std::vector<bool> in_loop;
  for (int i = 0; i < 5; ++i)
    loop.Post([&, i] {
      ran.push_back(i);
      in_loop.push_back(loop.InLoop());
    });
  loop.Stop();
  std::thread runner([&] { loop.Run(); });
  runner.join();
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(in_loop, std::vector<bool>(5, true));
  EXPECT_FALSE(loop.InLoop());  // this thread is not the loop's
}

TEST(EventLoop, AThrowingHandlerIsReportedAndTheLoopGoesOn) {
  std::vector<std::string> caught;
  EventLoop loop([&](const std::exception& e) { caught.emplace_back(e.what()); });
  std::vector<int> ran;
  loop.Post([&] { ran.push_back(1); });
  loop.Post([] { throw std::runtime_error("bad message"); });
  loop.Post([&] { ran.push_back(3); });
  loop.Stop();
  loop.Run();
  EXPECT_EQ(caught, std::vector<std::string>{"bad message"});
  EXPECT_EQ(ran, (std::vector<int>{1, 3}));
}

TEST(EventLoop, StopRunsQueuedWorkFirst) {
  EventLoop loop(nullptr);
  std::vector<int> ran;
  loop.Post([&] {
    ran.push_back(1);
    loop.Stop();                           // from a handler (a destroy from a callback): the rest still runs
    loop.Post([&] { ran.push_back(3); });  // behind the stop: never runs
  });
  loop.Post([&] { ran.push_back(2); });
  loop.Run();
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
}

// Teardown: the loop has stopped, and a leave still on its way needs it once more,
// until it is answered or its bound passes.
TEST(EventLoop, RunUntilFinishesALastExchangeAfterStopWithinItsDeadline) {
  using Clock = std::chrono::steady_clock;
  EventLoop loop(nullptr);
  loop.Stop();
  loop.Run();
  bool answered = false;
  std::vector<int> ran;
  loop.Post([&] { ran.push_back(1); });  // queued after the stop: runs, in order
  boost::asio::steady_timer reply(loop.io(), std::chrono::milliseconds(20));
  reply.async_wait([&](const boost::system::error_code& ec) { answered = !ec; });
  EXPECT_TRUE(loop.RunUntil([&] { return answered; }, Clock::now() + std::chrono::seconds(5)));
  EXPECT_EQ(ran, std::vector<int>{1});
  auto t0 = Clock::now();
  EXPECT_FALSE(loop.RunUntil([] { return false; }, t0 + std::chrono::milliseconds(50)));
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(50));
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));
}

}  // namespace
}  // namespace parley::sdk
