#include "core/event_loop.hpp"

#include <boost/asio/post.hpp>
#include <utility>

namespace parley::sdk {

EventLoop::EventLoop(Catch on_exception)
    : work_(boost::asio::make_work_guard(io_)), on_exception_(std::move(on_exception)) {}

void EventLoop::Post(std::function<void()> fn) {
  boost::asio::post(io_, std::move(fn));
}

void EventLoop::Run() {
  runner_ = std::this_thread::get_id();
  // The one catch: an exception leaves io_context::run with the loop intact, so the
  // loop is entered again and goes on with the next handler.
  for (;;) {
    try {
      io_.run();
      return;
    } catch (const std::exception& e) {
      if (on_exception_) on_exception_(e);
    }
  }
}

bool EventLoop::RunUntil(const std::function<bool()>& done, std::chrono::steady_clock::time_point deadline) {
  runner_ = std::this_thread::get_id();
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    // A Stop (queued before, or posted meanwhile) only ends one pass here: the bound
    // is the deadline.
    if (io_.stopped()) io_.restart();
    try {
      io_.run_one_until(deadline);
    } catch (const std::exception& e) {
      if (on_exception_) on_exception_(e);
    }
  }
  return done();
}

void EventLoop::Stop() {
  // Queued behind the work posted so far, so that work runs first.
  boost::asio::post(io_, [this] { io_.stop(); });
}

}  // namespace parley::sdk
