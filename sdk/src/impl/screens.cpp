// What a screen share can capture on an X display: each screen, then each top-level
// window that is shown and has a name (the window manager's client list when there
// is one, else the root window's mapped children), with where it is.
#include <mutex>
#include <string>
#include <vector>

#include "media/media.hpp"

// Last: Xlib's macros (Status, None, Bool) would clash with the headers above.
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

namespace parley::sdk::media {
namespace {

// Xlib's default error handler exits the process; a window that goes away while we
// look at it must only be skipped. The handler is process-wide: swapped in for the
// listing, under a lock of ours, and put back.
std::mutex g_x_mu;
int IgnoreXError(Display*, XErrorEvent*) {
  return 0;
}

std::string WindowTitle(Display* d, Window w) {
  Atom utf8 = XInternAtom(d, "UTF8_STRING", False);
  Atom net_name = XInternAtom(d, "_NET_WM_NAME", False);
  Atom type = None;
  int format = 0;
  unsigned long n = 0, after = 0;
  unsigned char* data = nullptr;
  std::string title;
  if (XGetWindowProperty(d, w, net_name, 0, 1024, False, utf8, &type, &format, &n, &after, &data) == Success && data &&
      type == utf8 && format == 8)
    title.assign(reinterpret_cast<char*>(data), n);
  if (data) XFree(data);
  if (!title.empty()) return title;
  char* name = nullptr;
  if (XFetchName(d, w, &name) && name) {
    title = name;
    XFree(name);
  }
  return title;
}

// The window manager's list of client windows (EWMH), or nothing.
std::vector<Window> ClientList(Display* d, Window root) {
  std::vector<Window> out;
  Atom list = XInternAtom(d, "_NET_CLIENT_LIST", True);
  if (list == None) return out;
  Atom type = None;
  int format = 0;
  unsigned long n = 0, after = 0;
  unsigned char* data = nullptr;
  if (XGetWindowProperty(d, root, list, 0, 4096, False, XA_WINDOW, &type, &format, &n, &after, &data) == Success &&
      data && type == XA_WINDOW && format == 32) {
    const auto* ids = reinterpret_cast<const unsigned long*>(data);  // 32-bit items come as longs
    out.assign(ids, ids + n);
  }
  if (data) XFree(data);
  return out;
}

}  // namespace

std::vector<ScreenSourceInfo> ListScreenSources(const std::string& display) {
  std::lock_guard<std::mutex> lock(g_x_mu);
  Display* d = XOpenDisplay(display.empty() ? nullptr : display.c_str());
  if (!d) return {};
  auto previous = XSetErrorHandler(&IgnoreXError);
  std::vector<ScreenSourceInfo> out;
  for (int s = 0; s < ScreenCount(d); ++s) {
    ScreenSourceInfo info;
    info.kind = ScreenSourceKind::kScreen;
    info.id = static_cast<uint64_t>(s);
    info.title = "Screen " + std::to_string(s);
    info.width = DisplayWidth(d, s);
    info.height = DisplayHeight(d, s);
    out.push_back(info);
  }
  for (int s = 0; s < ScreenCount(d); ++s) {
    Window root = RootWindow(d, s);
    std::vector<Window> windows = ClientList(d, root);
    if (windows.empty()) {
      Window parent = 0, root_back = 0, *children = nullptr;
      unsigned int n = 0;
      if (XQueryTree(d, root, &root_back, &parent, &children, &n) && children) windows.assign(children, children + n);
      if (children) XFree(children);
    }
    for (Window w : windows) {
      XWindowAttributes a;
      if (!XGetWindowAttributes(d, w, &a) || a.map_state != IsViewable || a.c_class == InputOnly) continue;
      std::string title = WindowTitle(d, w);
      if (title.empty()) continue;
      int x = 0, y = 0;
      Window child = 0;
      XTranslateCoordinates(d, w, root, 0, 0, &x, &y, &child);
      ScreenSourceInfo info;
      info.kind = ScreenSourceKind::kWindow;
      info.id = static_cast<uint64_t>(w);
      info.title = std::move(title);
      info.x = x;
      info.y = y;
      info.width = a.width;
      info.height = a.height;
      out.push_back(std::move(info));
    }
  }
  XSync(d, False);  // errors still on their way are ignored too
  XSetErrorHandler(previous);
  XCloseDisplay(d);
  return out;
}

}  // namespace parley::sdk::media
