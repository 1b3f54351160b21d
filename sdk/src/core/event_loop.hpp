// The engine's one event loop: a boost::asio io_context run by the engine thread.
// API calls, signalling replies and media results are posted to it and run in order;
// timers are asio timers on io(). A handler that throws is reported through the
// loop's one catch and the loop goes on.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <thread>

namespace parley::sdk {

class EventLoop {
 public:
  using Catch = std::function<void(const std::exception&)>;
  explicit EventLoop(Catch on_exception);
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// For timers and I/O objects that run on this loop (destroy them before the loop).
  boost::asio::io_context& io() { return io_; }
  /// Runs `fn` on the loop, after everything posted before it. Any thread.
  void Post(std::function<void()> fn);
  /// The calling thread is the one running the loop.
  [[nodiscard]] bool InLoop() const { return std::this_thread::get_id() == runner_.load(); }
  /// Runs the loop on the calling thread until Stop: returns once what was posted
  /// before the Stop has run. Timers still waiting then never fire.
  void Run();
  /// Asks Run to return after the work queued so far. Any thread; idempotent.
  void Stop();
  /// After Run has returned: runs the loop again on the calling thread until `done()`
  /// holds or `deadline` passes, for a last exchange (the leave at teardown). Whatever
  /// was queued runs too, in order. Returns done().
  bool RunUntil(const std::function<bool()>& done, std::chrono::steady_clock::time_point deadline);

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;  ///< idle is not done
  Catch on_exception_;
  std::atomic<std::thread::id> runner_{};
};

}  // namespace parley::sdk
