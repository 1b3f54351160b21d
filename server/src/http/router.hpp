// Plain HTTP request/response values and the router for everything on the HTTP port
// that is not the WebSocket: the admin API, /metrics, /healthz and static web files.
// Transport-free so it is tested without sockets.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "auth/app_store.hpp"
#include "config.hpp"
#include "http/admin_ops.hpp"
#include "metrics.hpp"

namespace parley::server {

struct HttpRequest {
  std::string method;            ///< GET, POST, ...
  std::string target;            ///< path and query
  std::string authorization;     ///< Authorization header
  std::string admin_key_header;  ///< X-Admin-Key header
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
  /// A static file to stream instead of `body` (canonical path inside the web root);
  /// the transport sends it in chunks, never whole in memory.
  std::string file;
};

/// Decodes %XX escapes once (RFC 3986 §2.1). False on a malformed escape or a decoded
/// NUL. "+" stays "+" (it means space only in query strings).
bool PercentDecode(std::string_view in, std::string* out);

/// Maps a request path to a regular file inside `root`, or nullopt (404). The path is
/// percent-decoded once; backslashes, NULs and ".." segments are refused; leading
/// slashes never make it absolute; the result, with symlinks resolved
/// (weakly_canonical), must lie inside the canonical root. A directory maps to its
/// index.html; when it was named without its trailing slash, `*redirect` is set to the
/// normalised path with one.
std::optional<std::filesystem::path> ResolveStaticPath(const std::string& root, const std::string& path,
                                                       std::string* redirect);

class Router {
 public:
  /// `admin` runs the operations on live channels and on the users of changed apps.
  Router(const ServerConfig& config, AppStore& store, AdminOps& admin, Metrics& metrics)
      : config_(config), store_(store), admin_(admin), metrics_(metrics) {}

  HttpResponse Handle(const HttpRequest& req);

 private:
  HttpResponse Admin(const HttpRequest& req, const std::string& path, const std::string& query);
  HttpResponse Static(const HttpRequest& req, const std::string& path);

  const ServerConfig& config_;
  AppStore& store_;
  AdminOps& admin_;
  Metrics& metrics_;
};

}  // namespace parley::server
