#include "server/edge_router.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <unordered_map>

#include "common/encoding.h"
#include "sigv4/request.h"

namespace meridian::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// The <region> in ".../<date>/<region>/<service>/aws4_request".
std::optional<std::string> RegionOfCredential(std::string_view credential) {
  size_t parts[4];
  size_t n = 0;
  for (size_t i = 0; i < credential.size() && n < 4; ++i)
    if (credential[i] == '/') parts[n++] = i;
  if (n < 3) return std::nullopt;
  std::string region(credential.substr(parts[1] + 1, parts[2] - parts[1] - 1));
  if (region.empty()) return std::nullopt;
  return region;
}

// One keep-alive connection per (thread, region endpoint).
struct Connection {
  net::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  bool open = false;
};

Connection& ThreadConnection(const std::string& endpoint) {
  thread_local std::unordered_map<std::string, std::unique_ptr<Connection>> pool;
  auto& c = pool[endpoint];
  if (!c) c = std::make_unique<Connection>();
  return *c;
}

bool Forward(const std::string& endpoint, const HttpRequest& in, HttpResponse& out) {
  Connection& c = ThreadConnection(endpoint);
  for (int attempt = 0; attempt < 2; ++attempt) {  // a kept-alive connection may have been closed
    beast::error_code ec;
    if (!c.open) {
      const size_t colon = endpoint.rfind(':');
      tcp::resolver resolver(c.io);
      auto results = resolver.resolve(endpoint.substr(0, colon), endpoint.substr(colon + 1), ec);
      if (ec) return false;
      c.stream.expires_after(std::chrono::seconds(5));
      c.stream.connect(results, ec);
      if (ec) return false;
      c.open = true;
    }
    http::request<http::string_body> req;
    req.method_string(beast::string_view(in.method.data(), in.method.size()));
    req.target(beast::string_view(in.target.data(), in.target.size()));
    req.version(11);
    for (const auto& h : in.headers) {
      const beast::string_view name(h.name.data(), h.name.size());
      if (beast::iequals(name, "content-length") || beast::iequals(name, "connection") ||
          beast::iequals(name, "transfer-encoding") || beast::iequals(name, "expect"))
        continue;
      req.insert(name, beast::string_view(h.value.data(), h.value.size()));
    }
    req.set(http::field::connection, "keep-alive");
    req.body().assign(in.body.data(), in.body.size());
    req.prepare_payload();
    c.stream.expires_after(std::chrono::seconds(60));
    http::write(c.stream, req, ec);
    http::response<http::string_body> res;
    if (!ec) http::read(c.stream, c.buffer, res, ec);
    if (ec) {
      c.stream.socket().close(ec);
      c.open = false;
      c.buffer.clear();
      continue;
    }
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
      const auto name = f.name_string();
      if (beast::iequals(name, "content-type")) {
        out.content_type = std::string(f.value());
      } else if (!beast::iequals(name, "content-length") && !beast::iequals(name, "date") &&
                 !beast::iequals(name, "connection")) {
        out.headers.emplace_back(std::string(name), std::string(f.value()));
      }
    }
    out.body = std::move(res.body());
    if (!res.keep_alive()) {
      c.stream.socket().close(ec);
      c.open = false;
    }
    return true;
  }
  return false;
}

}  // namespace

EdgeRouter::EdgeRouter(std::map<std::string, std::string> regions) : regions_(std::move(regions)) {}

std::optional<std::string> EdgeRouter::SignedRegion(const HttpRequest& request) {
  if (auto auth = sigv4::FindHeader(request.headers, "authorization")) {
    const size_t at = auth->find("Credential=");
    if (at != std::string_view::npos) {
      std::string_view rest = auth->substr(at + 11);
      return RegionOfCredential(rest.substr(0, rest.find_first_of(", ")));
    }
  }
  const std::string_view q = request.query;
  const size_t at = q.find("X-Amz-Credential=");
  if (at != std::string_view::npos && (at == 0 || q[at - 1] == '&')) {
    std::string_view value = q.substr(at + 17);
    value = value.substr(0, value.find('&'));
    if (auto decoded = UriDecode(value)) return RegionOfCredential(*decoded);
  }
  return std::nullopt;
}

void EdgeRouter::Handle(const HttpRequest& request, HttpResponse& response) const {
  response.content_type = "application/x-amz-json-1.1";
  std::optional<std::string> region = SignedRegion(request);
  auto target = region ? regions_.find(*region) : regions_.begin();
  if (target == regions_.end()) {
    std::string running;
    for (const auto& [name, _] : regions_) running += (running.empty() ? "" : ", ") + name;
    response.status = 400;
    response.body = AwsJsonErrorBody("InvalidRegionException",
                                     "Region " + *region + " is not running in this deployment; running regions: " +
                                         running + ". Sign the request for one of them.");
    return;
  }
  if (!Forward(target->second, request, response)) {
    response.status = 503;
    response.headers.clear();
    response.body = AwsJsonErrorBody("ServiceUnavailableException",
                                     "Region " + target->first + " is not answering (is its process down?).");
  }
}

}  // namespace meridian::server
