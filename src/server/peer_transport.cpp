#include "server/peer_transport.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <mutex>
#include <vector>

#include "common/aws_json.h"
#include "server/tls/identity.h"

namespace meridian::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Stream = beast::ssl_stream<beast::tcp_stream>;

Status Unavailable(std::string message) { return Status("PeerUnavailable", std::move(message), 503); }

// Request targets we send: a path and optional query of visible ASCII, nothing that could end
// the request line or smuggle a header.
bool IsSendableTarget(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  for (unsigned char c : path) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// The peer's AWS-shaped error ({"__type": ..., "message": ...}) or a generic one.
Status PeerError(unsigned status, std::string_view body, const std::string& peer) {
  auto document = ParseJsonObject(body);
  if (document.ok() && document->IsObject()) {
    const auto type = document->FindMember("__type");
    if (type != document->MemberEnd() && type->value.IsString() && type->value.GetStringLength() > 0) {
      std::string message;
      for (const char* name : {"message", "Message"}) {
        const auto m = document->FindMember(name);
        if (m != document->MemberEnd() && m->value.IsString()) message = m->value.GetString();
      }
      return Status(type->value.GetString(), message, static_cast<int>(status));
    }
  }
  return Status("PeerHttpError", "peer region " + peer + " answered HTTP " + std::to_string(status),
                static_cast<int>(status));
}

}  // namespace

class MutualTlsTransport::Impl {
 public:
  Impl(MutualTlsTransportOptions options, ssl::context context)
      : options_(std::move(options)), context_(std::move(context)), resolver_(ioc_) {
    const bool bracket = options_.host.find(':') != std::string::npos;
    host_header_ = (bracket ? "[" + options_.host + "]" : options_.host) + ":" + std::to_string(options_.port);
    where_ = "peer region " + options_.peer_region + " at " + host_header_;
  }

  ~Impl() { Close(); }

  Result<std::string> Post(std::string_view path, std::string_view body) {
    if (!IsSendableTarget(path)) return errors::Validation("'" + std::string(path) + "' is not a request path");
    std::lock_guard<std::mutex> lock(mu_);
    for (int attempt = 0;; ++attempt) {
      const bool reused = stream_ != nullptr;
      if (!reused) MERIDIAN_RETURN_IF_ERROR(Connect());
      bool response_started = false;
      auto response = Exchange(path, body, response_started);
      if (response.ok()) {
        if (!response->keep_alive()) Close();
        const unsigned status = response->result_int();
        if (status >= 200 && status < 300) return std::move(response->body());
        return PeerError(status, response->body(), options_.peer_region);
      }
      Close();
      // An idle keep-alive connection the server had closed: try once more on a fresh one.
      if (reused && !response_started && attempt == 0) continue;
      return response.status();
    }
  }

  uint64_t connections_opened() const {
    std::lock_guard<std::mutex> lock(mu_);
    return connections_opened_;
  }

 private:
  // Runs the I/O context until the operations started by the caller have completed.
  void Run() {
    ioc_.restart();
    ioc_.run();
  }

  // The peer's addresses: an IP literal as is, a name through the resolver (bounded by
  // connect_timeout as far as the system resolver allows).
  Result<std::vector<tcp::endpoint>> Resolve() {
    error_code ec;
    const net::ip::address literal = net::ip::make_address(options_.host, ec);
    if (!ec) return std::vector<tcp::endpoint>{tcp::endpoint(literal, options_.port)};
    bool done = false;
    std::vector<tcp::endpoint> endpoints;
    resolver_.async_resolve(options_.host, std::to_string(options_.port),
                            [&](error_code e, const tcp::resolver::results_type& results) {
                              done = true;
                              ec = e;
                              for (const auto& entry : results) endpoints.push_back(entry.endpoint());
                            });
    ioc_.restart();
    ioc_.run_for(options_.connect_timeout);
    if (!done) {
      resolver_.cancel();
      Run();
      return Unavailable("cannot resolve " + where_ + ": timed out");
    }
    if (ec) return Unavailable("cannot resolve " + where_ + ": " + ec.message());
    return endpoints;
  }

  Status Connect() {
    ++connections_opened_;
    MERIDIAN_ASSIGN_OR_RETURN(std::vector<tcp::endpoint> endpoints, Resolve());
    auto stream = std::make_unique<Stream>(ioc_, context_);
    error_code ignored;
    net::ip::make_address(options_.host, ignored);
    if (ignored) SSL_set_tlsext_host_name(stream->native_handle(), options_.host.c_str());  // SNI: names only
    beast::tcp_stream& tcp_stream = beast::get_lowest_layer(*stream);
    tcp_stream.expires_after(options_.connect_timeout);
    error_code ec;
    tcp_stream.async_connect(endpoints, [&](error_code e, const tcp::endpoint&) { ec = e; });
    Run();
    if (ec) return Unavailable("cannot connect to " + where_ + ": " + ec.message());
    tcp_stream.socket().set_option(tcp::no_delay(true), ignored);

    stream->async_handshake(ssl::stream_base::client, [&](error_code e) { ec = e; });
    Run();
    SSL* ssl = stream->native_handle();
    const long verify = SSL_get_verify_result(ssl);
    if (ec && verify != X509_V_OK) {
      return Status("PeerIdentityMismatch",
                    "the certificate of " + where_ + " is not from the deployment CA: " +
                        X509_verify_cert_error_string(verify),
                    403);
    }
    if (ec) return Unavailable("TLS handshake with " + where_ + " failed: " + ec.message());
    const X509* certificate = SSL_get0_peer_certificate(ssl);
    const tls::CertificateIdentity identity = tls::IdentityOf(certificate);
    if (certificate == nullptr || identity.region != options_.peer_region) {
      return Status("PeerIdentityMismatch",
                    "the server at " + host_header_ + " presented a certificate for " +
                        (identity.region.empty() ? std::string("no region") : "region '" + identity.region + "'") +
                        " (CN '" + identity.common_name + "'), not for peer region '" + options_.peer_region + "'",
                    403);
    }
    stream_ = std::move(stream);
    buffer_.clear();
    return Status::Ok();
  }

  // One request and its response on the open connection. `response_started` tells a failure
  // after the peer began answering (not retried) from one before.
  Result<http::response<http::string_body>> Exchange(std::string_view path, std::string_view body,
                                                     bool& response_started) {
    if (buffer_.size() != 0) return Unavailable("unexpected bytes from " + where_);  // unsolicited data
    head_.clear();
    head_ += "POST ";
    head_ += path;
    head_ += " HTTP/1.1\r\nHost: ";
    head_ += host_header_;
    head_ += "\r\nContent-Type: application/json\r\nContent-Length: ";
    head_ += std::to_string(body.size());
    head_ += "\r\n\r\n";
    // buffers_cat, not std::array<const_buffer, 2>: see WriteResponse in http_listener.cpp.
    const auto buffers = beast::buffers_cat(net::buffer(head_), net::buffer(body.data(), body.size()));

    beast::get_lowest_layer(*stream_).expires_after(options_.io_timeout);
    error_code write_ec, read_ec;
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_response_bytes);
    net::async_write(*stream_, buffers, [&](error_code e, size_t) { write_ec = e; });
    Run();
    if (!write_ec) {
      http::async_read(*stream_, buffer_, parser, [&](error_code e, size_t) { read_ec = e; });
      Run();
    }
    response_started = parser.got_some() || buffer_.size() != 0;
    if (write_ec) return Unavailable("cannot send to " + where_ + ": " + write_ec.message());
    if (read_ec) return Unavailable("no answer from " + where_ + ": " + read_ec.message());
    return parser.release();
  }

  void Close() {
    if (!stream_) return;
    error_code ignored;
    beast::get_lowest_layer(*stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(*stream_).close();
    stream_.reset();
    buffer_.clear();
  }

  const MutualTlsTransportOptions options_;
  std::string host_header_;  // "host:port" ("[v6]:port")
  std::string where_;        // for messages: "peer region us-east-1 at 127.0.0.1:4567"

  mutable std::mutex mu_;  // one post at a time; guards everything below
  net::io_context ioc_;
  ssl::context context_;
  tcp::resolver resolver_;
  std::unique_ptr<Stream> stream_;  // the kept-alive connection, null when closed
  beast::flat_buffer buffer_;
  std::string head_;
  uint64_t connections_opened_ = 0;
};

Result<std::unique_ptr<MutualTlsTransport>> MutualTlsTransport::Create(MutualTlsTransportOptions options) {
  if (!tls::IsValidRegionName(options.peer_region))
    return errors::Validation("'" + options.peer_region + "' is not a region name");
  if (options.port == 0) return errors::Validation("the peer's port is required");
  if (options.host.empty()) return errors::Validation("the peer's host is required");
  if (options.tls.certificate_chain_file.empty())
    return Status("TlsConfigError", "mutual TLS needs this region's certificate and key", 500);
  ssl::context context(ssl::context::tls_client);
  MERIDIAN_RETURN_IF_ERROR(tls::ConfigureClientContext(context.native_handle(), options.tls));
  return std::unique_ptr<MutualTlsTransport>(
      new MutualTlsTransport(std::make_unique<Impl>(std::move(options), std::move(context))));
}

MutualTlsTransport::MutualTlsTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MutualTlsTransport::~MutualTlsTransport() = default;

Result<std::string> MutualTlsTransport::Post(std::string_view path, std::string_view body) {
  return impl_->Post(path, body);
}

uint64_t MutualTlsTransport::connections_opened() const { return impl_->connections_opened(); }

}  // namespace meridian::server
