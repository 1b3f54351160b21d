// A private X server for tests (Xvfb at 1280x720), and windows on it.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>

// Xlib's macros (None, Status …) go last: they clash with names in the headers above.
#include <X11/Xlib.h>
#include <X11/Xutil.h>

namespace parley {

// A private X server for the test (Xvfb), its display name, and a client connection.
class XServer {
 public:
  XServer() {
    number_ = 90 + static_cast<int>(getpid() % 100);
    name_ = ":" + std::to_string(number_);
    pid_ = fork();
    if (pid_ == 0) {
      execl("/usr/bin/Xvfb", "Xvfb", name_.c_str(), "-screen", "0", "1280x720x24", "-nolisten", "tcp",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 100 && !display_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      display_ = XOpenDisplay(name_.c_str());
    }
  }
  ~XServer() {
    if (display_) XCloseDisplay(display_);
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  XServer(const XServer&) = delete;
  XServer& operator=(const XServer&) = delete;
  [[nodiscard]] Display* display() const { return display_; }
  [[nodiscard]] const std::string& name() const { return name_; }

  /// A shown top-level window at (x, y), filled with `background` (an X pixel value:
  /// 0 black, 0xffffff white at depth 24), named `title` when one is given.
  Window CreateWindow(int w, int h, const std::string& title = "", int x = 0, int y = 0, unsigned long background = 0) {
    Window win = XCreateSimpleWindow(display_, DefaultRootWindow(display_), x, y, static_cast<unsigned>(w),
                                     static_cast<unsigned>(h), 0, 0, background);
    if (!title.empty()) XStoreName(display_, win, title.c_str());
    XMapWindow(display_, win);
    XSync(display_, False);
    return win;
  }

  // Distinct colours in a window's current picture (sampled).
  size_t Colours(Window win, int w, int h) {
    XImage* img =
        XGetImage(display_, win, 0, 0, static_cast<unsigned>(w), static_cast<unsigned>(h), AllPlanes, ZPixmap);
    if (!img) return 0;
    std::set<unsigned long> seen;
    for (int y = 0; y < h; y += 4)
      for (int x = 0; x < w; x += 4) seen.insert(XGetPixel(img, x, y));
    XDestroyImage(img);
    return seen.size();
  }

 private:
  int number_ = 0;
  std::string name_;
  pid_t pid_ = -1;
  Display* display_ = nullptr;
};

}  // namespace parley
