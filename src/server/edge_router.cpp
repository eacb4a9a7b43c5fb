#include "server/edge_router.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <unordered_map>

#include "server/query_protocol.h"
#include "server/request_pipeline.h"
#include "server/tls/identity.h"
#include "sigv4/verifier.h"

namespace meridian::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One keep-alive connection per (thread, region endpoint): plain TCP to a plaintext loopback
// listener, or TLS 1.3 to a TLS listener whose certificate must name the target region.
struct Connection {
  net::io_context io;
  beast::tcp_stream plain{io};
  std::unique_ptr<TlsStream> secure;
  beast::flat_buffer buffer;
  bool open = false;

  void Close() {
    beast::error_code ignored;
    if (secure) beast::get_lowest_layer(*secure).socket().close(ignored);
    plain.socket().close(ignored);
    secure.reset();
    open = false;
    buffer.clear();
  }
};

Connection& ThreadConnection(const std::string& endpoint) {
  thread_local std::unordered_map<std::string, std::unique_ptr<Connection>> pool;
  auto& c = pool[endpoint];
  if (!c) c = std::make_unique<Connection>();
  return *c;
}

bool Open(Connection& c, const std::string& endpoint, const std::string& region, ssl::context* tls) {
  beast::error_code ec;
  const size_t colon = endpoint.rfind(':');
  tcp::resolver resolver(c.io);
  auto results = resolver.resolve(endpoint.substr(0, colon), endpoint.substr(colon + 1), ec);
  if (ec) return false;
  if (!tls) {
    c.plain.expires_after(std::chrono::seconds(5));
    c.plain.connect(results, ec);
    c.open = !ec;
    return c.open;
  }
  c.secure = std::make_unique<TlsStream>(c.io, *tls);
  auto& lowest = beast::get_lowest_layer(*c.secure);
  lowest.expires_after(std::chrono::seconds(5));
  lowest.connect(results, ec);
  if (!ec) c.secure->handshake(ssl::stream_base::client, ec);
  // The CA verified the chain; the certificate must also be the target region's own.
  if (ec || SSL_get_verify_result(c.secure->native_handle()) != X509_V_OK ||
      tls::IdentityOf(SSL_get0_peer_certificate(c.secure->native_handle())).region != region) {
    c.Close();
    return false;
  }
  c.open = true;
  return true;
}

template <typename Stream>
bool Exchange(Stream& stream, beast::flat_buffer& buffer, const HttpRequest& in, HttpResponse& out, bool& keep_alive) {
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
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(60));
  beast::error_code ec;
  http::write(stream, req, ec);
  http::response<http::string_body> res;
  if (!ec) http::read(stream, buffer, res, ec);
  if (ec) return false;
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
  keep_alive = res.keep_alive();
  return true;
}

bool Forward(const std::string& endpoint, const std::string& region, ssl::context* tls, const HttpRequest& in,
             HttpResponse& out) {
  Connection& c = ThreadConnection(endpoint);
  for (int attempt = 0; attempt < 2; ++attempt) {  // a kept-alive connection may have been closed
    if (!c.open && !Open(c, endpoint, region, tls)) return false;
    bool keep_alive = false;
    const bool ok = c.secure ? Exchange(*c.secure, c.buffer, in, out, keep_alive)
                             : Exchange(c.plain, c.buffer, in, out, keep_alive);
    if (!ok) {
      c.Close();
      continue;
    }
    if (!keep_alive) c.Close();
    return true;
  }
  return false;
}

}  // namespace

EdgeRouter::EdgeRouter(std::map<std::string, std::string> regions, std::string iam_region)
    : regions_(std::move(regions)), iam_region_(std::move(iam_region)) {}

EdgeRouter::~EdgeRouter() = default;

Status EdgeRouter::UseTls(const tls::TlsClientConfig& config) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  MERIDIAN_RETURN_IF_ERROR(tls::ConfigureClientContext(context->native_handle(), config));
  tls_ = std::move(context);
  return Status::Ok();
}

std::optional<std::string> EdgeRouter::SignedRegion(const HttpRequest& request) {
  sigv4::RequestView view{request.method, request.path, request.query, request.headers, request.body, {}};
  auto claimed = sigv4::ClaimedCredentialOf(view);
  if (!claimed || claimed->region.empty()) return std::nullopt;
  return claimed->region;
}

void EdgeRouter::Handle(const HttpRequest& request, HttpResponse& response) const {
  sigv4::RequestView view{request.method, request.path, request.query, request.headers, request.body, {}};
  const auto claimed = sigv4::ClaimedCredentialOf(view);
  const query::Dialect* dialect = !claimed                   ? nullptr
                                  : claimed->service == "iam" ? &query::kIamDialect
                                  : claimed->service == "sts" ? &query::kStsDialect
                                                              : nullptr;
  auto fail = [&](int status, std::string_view type, std::string_view query_code, const std::string& message) {
    const std::string request_id = NewRequestId();
    response.status = status;
    response.headers.clear();
    response.headers.emplace_back("x-amzn-RequestId", request_id);
    if (dialect) {
      response.content_type = "text/xml";
      response.body = query::RenderError(*dialect, query_code, message, status, request_id);
    } else {
      response.content_type = "application/x-amz-json-1.1";
      response.body = AwsJsonErrorBody(type, message);
    }
  };
  auto target = claimed && !claimed->region.empty() ? regions_.find(claimed->region) : regions_.begin();
  // IAM is global: every IAM request goes to IAM's home region, which accepts iam signatures
  // scoped to any region of the deployment and to IAM's own signing region (us-east-1).
  if (claimed && claimed->service == "iam" && regions_.count(iam_region_) &&
      (regions_.count(claimed->region) || claimed->region == kGlobalIamRegion))
    target = regions_.find(iam_region_);
  else if (target == regions_.end() && claimed && claimed->service == "iam" && claimed->region == kGlobalIamRegion)
    target = regions_.begin();
  if (target == regions_.end()) {
    if (!claimed) return fail(503, "ServiceUnavailableException", "ServiceUnavailable", "No region is running.");
    std::string running;
    for (const auto& [name, _] : regions_) running += (running.empty() ? "" : ", ") + name;
    return fail(400, "InvalidRegionException", "InvalidClientTokenId",
                "Region " + claimed->region + " is not running in this deployment; running regions: " + running +
                    ". Sign the request for one of them.");
  }
  if (!Forward(target->second, target->first, tls_.get(), request, response))
    fail(503, "ServiceUnavailableException", "ServiceUnavailable",
         "Region " + target->first + " is not answering (is its process down?).");
}

}  // namespace meridian::server
