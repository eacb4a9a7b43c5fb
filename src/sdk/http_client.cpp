#include "sdk/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace meridian::sdk {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string HttpEndpoint::HostHeader() const {
  bool default_port = (tls && port == "443") || (!tls && port == "80");
  return default_port ? host : host + ":" + port;
}

Result<HttpEndpoint> HttpEndpoint::Parse(const std::string& url) {
  HttpEndpoint e;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    e.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return Status("InvalidEndpoint", "endpoint must start with http:// or https://: " + url);
  }
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  e.base_path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') == std::string::npos) {
    e.host = authority.substr(0, colon);
    e.port = authority.substr(colon + 1);
  } else {
    e.host = authority;
    e.port = e.tls ? "443" : "80";
  }
  if (e.host.empty()) return Status("InvalidEndpoint", "endpoint has no host: " + url);
  return e;
}

namespace {

template <typename Stream>
Result<HttpResponse> Exchange(Stream& stream, const HttpEndpoint& endpoint, const std::string& path,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              const std::string& body) {
  http::request<http::string_body> req{http::verb::post, path, 11};
  req.set(http::field::host, endpoint.HostHeader());
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64u << 20);
  http::read(stream, buffer, parser);
  HttpResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  out.body = std::move(parser.get().body());
  return out;
}

}  // namespace

Result<HttpResponse> HttpPost(const HttpEndpoint& endpoint, const std::string& path,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              const std::string& body, const HttpOptions& options) {
  try {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(endpoint.host, endpoint.port);
    if (!endpoint.tls) {
      beast::tcp_stream stream(ioc);
      stream.expires_after(options.timeout);
      stream.connect(results);
      auto r = Exchange(stream, endpoint, path, headers, body);
      beast::error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      return r;
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    if (options.ca_file.empty()) ctx.set_default_verify_paths();
    else ctx.load_verify_file(options.ca_file);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), endpoint.host.c_str()))
      return Status("HttpError", "cannot set TLS server name");
    stream.set_verify_callback(asio::ssl::host_name_verification(endpoint.host));
    beast::get_lowest_layer(stream).expires_after(options.timeout);
    beast::get_lowest_layer(stream).connect(results);
    stream.handshake(asio::ssl::stream_base::client);
    auto r = Exchange(stream, endpoint, path, headers, body);
    beast::error_code ec;
    stream.shutdown(ec);
    return r;
  } catch (const std::exception& e) {
    return Status("HttpError", std::string("request to ") + endpoint.HostHeader() + " failed: " + e.what(), 503);
  }
}

}  // namespace meridian::sdk
