// Plain HTTP request/response values and the router for everything on the HTTP port
// that is not the WebSocket: the admin API, /metrics, /healthz and static web files.
// Transport-free so it is tested without sockets.
#pragma once

#include <map>
#include <string>

#include "auth/app_store.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "signal/hub.hpp"

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
};

class Router {
 public:
  Router(const ServerConfig& config, AppStore& store, SignalHub& hub, Metrics& metrics)
      : config_(config), store_(store), hub_(hub), metrics_(metrics) {}

  HttpResponse Handle(const HttpRequest& req);

 private:
  HttpResponse Admin(const HttpRequest& req, const std::string& path, const std::string& query);
  HttpResponse Static(const HttpRequest& req, const std::string& path);

  const ServerConfig& config_;
  AppStore& store_;
  SignalHub& hub_;
  Metrics& metrics_;
};

}  // namespace parley::server
