// HttpListener: the HTTP/1.1 server core. One listening endpoint (host:port) with its endpoint id
// (e.g. "vpce-0abc", what aws:SourceVpce sees), served asynchronously (Boost.Beast/Asio) by N
// threads, each running its own event loop: connections are dealt to the threads in turn as they
// are accepted and stay on theirs, so a connection's steps never need a lock or a thread hop (a
// handler that blocks holds up the other connections of its thread, not the whole listener).
//
// Per connection: keep-alive, requests handled strictly in order (pipelining-safe: a pipelined
// request waits in the read buffer until the response to the previous one is written). The
// handler runs on the I/O thread that read the request: no thread hop. Two handler forms:
// HttpHandler fills the response before returning; AsyncHttpHandler gets an HttpResponder and
// may answer later, from any thread (see HttpResponder for the lifetime rules). Limits: header size
// (431), body size (413), a read/write timeout that also bounds idle keep-alive connections and
// slow senders. Malformed HTTP gets 400 and the connection is closed; nothing a client sends can
// stop the server. Error bodies are AWS-shaped: {"__type": "...", "message": "..."}.
//
// Requests and responses may carry plaintext: once a response is written, its body, the request
// body and the connection's read buffer are wiped (OPENSSL_cleanse), and so is any of that memory
// freed or outgrown. (Buffers inside OpenSSL's TLS record layer are OpenSSL's to clear.)
//
// Stop() is graceful: stop accepting, close idle connections, let in-flight requests finish
// (their responses carry Connection: close), then return. Connections still busy after
// drain_timeout are closed.
//
// TLS (options.tls): TLS 1.3 only; a TLS 1.2 or older handshake, or plaintext HTTP sent to the
// port, fails the handshake and the connection is closed without an HTTP answer. With
// client_ca_file and require_client_certificate (mutual TLS), only clients whose certificate
// chains to that CA get past the handshake, and every request carries the certificate's identity
// (peer_certificate_name / peer_certificate_region). The session logic is a template over the
// stream type: plain TCP and TLS (a Beast ssl_stream over the same tcp_stream) share it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/tls/tls_context.h"
#include "sigv4/request.h"

namespace meridian::server {

// Request headers use SigV4's header type so that they feed the verifier without a copy.
using HttpHeader = sigv4::Header;

// One request, as views into the connection's buffers. With HttpHandler they are valid during
// the handler call; with AsyncHttpHandler, until the request's HttpResponder is sent or destroyed.
struct HttpRequest {
  std::string_view method;  // "POST"
  std::string_view target;  // request-target as received: path and optional "?query"
  std::string_view path;    // target up to '?'
  std::string_view query;   // after '?', "" when none
  std::span<const HttpHeader> headers;  // in the order received, names as sent
  std::string_view body;
  std::string_view peer_ip;  // "127.0.0.1"
  uint16_t peer_port = 0;
  std::string_view endpoint_id;  // the listener's endpoint id ("" when it has none)
  bool keep_alive = true;        // what the client asked for (HTTP/1.1 default, Connection header)
  bool tls = false;              // arrived over TLS
  // Identity of the client certificate, set only when the client presented one and it was
  // verified against the listener's client_ca_file ("" otherwise): its subject CN, and the region
  // of its URI SAN "meridian:region:<region>" (server/tls/identity.h).
  std::string_view peer_certificate_name;
  std::string_view peer_certificate_region;

  // First header named `name` (case-insensitive).
  std::optional<std::string_view> Header(std::string_view name) const;
};

// What the handler fills in. The listener writes Date, Content-Length, Content-Type (from
// content_type) and, when closing, Connection: close; handler headers with those names, or with
// characters not allowed in a header (CR, LF, NUL, a non-token name), are dropped.
struct HttpResponse {
  int status = 200;
  std::string content_type;  // sent as Content-Type when non-empty
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool close = false;  // close the connection after this response
};

// Called concurrently from the listener's threads; must be thread-safe and must not block for
// long (it holds an I/O thread).
using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;

class HttpResponseSink;  // the listener's side of an HttpResponder (http_listener.cpp)

// The promise of one response to one request, for AsyncHttpHandler. Move-only.
//
// Invariants:
// - Send() may be called from any thread, at most once (later calls do nothing); the connection
//   then writes the response on its own thread. Sending from inside the handler is fine too.
//   Responses sent from another thread are handed over in bursts: a thread that sends many
//   inside a WakeBatch (common/wake_batch.h) wakes each I/O thread once, at the batch's end.
// - Until Send() (or destruction), the connection holds the request: the HttpRequest views stay
//   valid and the next pipelined request is not read, so responses leave in request order. A
//   slow responder stalls only its own connection (and, while pending, the connection has no
//   read timeout).
// - Destroyed without Send(): the client gets 500 InternalFailure and the connection closes.
// - Stop() waits up to drain_timeout for pending responders, then closes their connections; a
//   later Send() is then a no-op. The request views stay valid until the responder is sent or
//   destroyed, even after Stop() or the listener's destruction.
class HttpResponder {
 public:
  HttpResponder() = default;  // answers nothing
  explicit HttpResponder(std::shared_ptr<HttpResponseSink> sink);  // made by the listener, one per request
  HttpResponder(HttpResponder&& other) noexcept = default;
  HttpResponder& operator=(HttpResponder&& other) noexcept;
  HttpResponder(const HttpResponder&) = delete;
  HttpResponder& operator=(const HttpResponder&) = delete;
  ~HttpResponder();

  void Send(HttpResponse response);
  // Whether Send() is still to be called.
  bool pending() const { return sink_ != nullptr; }

 private:
  std::shared_ptr<HttpResponseSink> sink_;
};

// Like HttpHandler, but the response goes through `responder`, now or later. The handler itself
// runs on an I/O thread and must return quickly. An exception it throws is caught; a responder
// still owned by the handler is destroyed in the unwinding and so answers 500.
using AsyncHttpHandler = std::function<void(const HttpRequest&, HttpResponder)>;

struct HttpListenerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;          // 0: an ephemeral port (see port())
  std::string endpoint_id;    // passed to the handler with every request
  bool reuse_port = false;    // SO_REUSEPORT: processes of one user share the port (the kernel spreads connections)
  int threads = 0;            // 0: one per hardware thread
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  // Longest a connection may take to deliver one request (or to be idle between requests), and
  // to accept one response.
  std::chrono::milliseconds io_timeout = std::chrono::seconds(60);
  std::chrono::milliseconds drain_timeout = std::chrono::seconds(10);
  // Serve HTTPS (TLS 1.3 only) instead of plain HTTP; see server/tls/tls_context.h.
  std::optional<tls::TlsServerConfig> tls;
};

class HttpListener {
 public:
  HttpListener(HttpListenerOptions options, HttpHandler handler);
  HttpListener(HttpListenerOptions options, AsyncHttpHandler handler);
  ~HttpListener();  // Stop()s
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Binds, listens and starts the threads. Fails (Status "ListenError") when the address is
  // invalid or cannot be bound, or when already started; ("TlsConfigError") when the TLS
  // certificate, key or CA files cannot be loaded.
  Status Start();
  // The bound port (useful with port 0); 0 before Start().
  uint16_t port() const;
  // Graceful stop (see above); idempotent. Must not be called from a handler.
  void Stop();

  // Connections currently open.
  size_t connection_count() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The AWS-shaped JSON error body: {"__type":"<type>","message":"<message>"} (JSON-escaped).
std::string AwsJsonErrorBody(std::string_view type, std::string_view message);

}  // namespace meridian::server
