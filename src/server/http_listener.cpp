#include "server/http_listener.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <ctime>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_set>

namespace meridian::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
// Concrete executor types (not the type-erased any_io_executor): no allocation or indirect call
// when handlers are dispatched.
using Strand = net::strand<net::io_context::executor_type>;
using StrandSocket = tcp::socket::rebind_executor<Strand>::other;
using PlainStream = beast::basic_stream<tcp, Strand, beast::unlimited_rate_policy>;

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

Status ListenError(std::string message) { return Status("ListenError", std::move(message), 500); }

// "Sun, 30 Aug 2015 12:36:00 GMT", recomputed at most once a second per thread.
std::string_view HttpDate() {
  thread_local std::time_t cached_second = -1;
  thread_local char buffer[40];
  thread_local size_t length = 0;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    length = std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return {buffer, length};
}

bool IsTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;  // callers compare header names (tokens)
  }
  return true;
}

// A header the handler may send: a token name that the listener does not own, a value without
// CR, LF or NUL.
bool IsSendableHeader(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (!IsTokenChar(c)) return false;
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return !EqualsIgnoreCase(name, "content-length") && !EqualsIgnoreCase(name, "connection") &&
         !EqualsIgnoreCase(name, "transfer-encoding") && !EqualsIgnoreCase(name, "date") &&
         !EqualsIgnoreCase(name, "content-type");
}

void AppendNumber(std::string& out, uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

void SetError(HttpResponse& response, int status, std::string_view type, std::string_view message) {
  response.status = status;
  response.content_type = "application/x-amz-json-1.1";
  response.headers.clear();
  response.body = AwsJsonErrorBody(type, message);
  response.close = true;
}

}  // namespace

std::optional<std::string_view> HttpRequest::Header(std::string_view name) const {
  return sigv4::FindHeader(headers, name);
}

std::string AwsJsonErrorBody(std::string_view type, std::string_view message) {
  std::string out = "{\"__type\":\"";
  auto append_escaped = [&out](std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else if (c < 0x20) {
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
  };
  append_escaped(type);
  out += "\",\"message\":\"";
  append_escaped(message);
  out += "\"}";
  return out;
}

// ---------------------------------------------------------------------------------------------

// What the listener needs to see of a connection, whatever its stream type.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  // Asks the connection to finish: idle connections close now, busy ones after their response.
  virtual void RequestStop() = 0;
  // Closes the connection now.
  virtual void ForceClose() = 0;
};

// The listener proper: the acceptor, the threads, and the registry of open connections.
class ListenerCore {
 public:
  ListenerCore(HttpListenerOptions options, HttpHandler handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        ioc_(ThreadCount(options_)),
        acceptor_(net::make_strand(ioc_)),
        retry_timer_(acceptor_.get_executor()) {}

  ~ListenerCore() { Stop(); }

  static int ThreadCount(const HttpListenerOptions& options) {
    if (options.threads > 0) return options.threads;
    return std::max(1u, std::thread::hardware_concurrency());
  }

  Status Start() {
    std::lock_guard<std::mutex> lock(lifecycle_mu_);
    if (started_) return ListenError("the listener is already started");
    error_code ec;
    net::ip::address address = net::ip::make_address(options_.address, ec);
    if (ec) return ListenError("invalid listen address '" + options_.address + "': " + ec.message());
    tcp::endpoint endpoint(address, options_.port);
    const std::string where = options_.address + ":" + std::to_string(options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      error_code ignored;
      acceptor_.close(ignored);
      return ListenError("cannot listen on " + where + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint(ec).port();
    started_ = true;
    Accept();
    work_.emplace(ioc_.get_executor());
    const int threads = ThreadCount(options_);
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { RunThread(); });
    return Status::Ok();
  }

  void Stop() {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
    if (!started_ || stopped_) return;
    stopped_ = true;
    stopping_.store(true);

    // 1. Stop accepting (on the acceptor's strand: an accept may be completing).
    std::promise<void> closed;
    net::post(acceptor_.get_executor(), [this, &closed] {
      error_code ignored;
      acceptor_.close(ignored);
      retry_timer_.cancel();
      closed.set_value();
    });
    closed.get_future().wait();

    // 2. Idle connections close now, busy ones after their response; wait for them.
    ForEachSession([](SessionBase& s) { s.RequestStop(); });
    if (!WaitForSessions(options_.drain_timeout)) {
      ForEachSession([](SessionBase& s) { s.ForceClose(); });
      WaitForSessions(std::chrono::seconds(5));
    }

    // 3. Let the threads run out of work and join them.
    work_.reset();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

  uint16_t port() const { return port_; }

  // An exception escaping a handler (a bug, or std::bad_alloc) must not take the thread down
  // with it: the connection whose handler threw is dropped and the loop goes on.
  void RunThread() {
    while (true) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception&) {
      }
    }
  }

  size_t connection_count() const {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    return sessions_.size();
  }

  // Used by sessions.
  const HttpListenerOptions& options() const { return options_; }
  const HttpHandler& handler() const { return handler_; }
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }
  void Register(SessionBase* s) {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    sessions_.insert(s);
  }
  void Unregister(SessionBase* s) {
    {
      std::lock_guard<std::mutex> lock(sessions_mu_);
      sessions_.erase(s);
    }
    sessions_cv_.notify_all();
  }

 private:
  void Accept();

  template <typename F>
  void ForEachSession(F f) {
    std::vector<std::shared_ptr<SessionBase>> live;
    {
      std::lock_guard<std::mutex> lock(sessions_mu_);
      // A session being destroyed waits on sessions_mu_ in Unregister, so the pointer is valid
      // here; weak_from_this().lock() is empty for it.
      for (SessionBase* s : sessions_) {
        if (auto sp = s->weak_from_this().lock()) live.push_back(std::move(sp));
      }
    }
    for (auto& s : live) f(*s);
  }

  bool WaitForSessions(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(sessions_mu_);
    return sessions_cv_.wait_for(lock, timeout, [this] { return sessions_.empty(); });
  }

  const HttpListenerOptions options_;
  const HttpHandler handler_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};

  std::mutex lifecycle_mu_;
  bool started_ = false;  // guarded by lifecycle_mu_
  bool stopped_ = false;  // guarded by lifecycle_mu_

  mutable std::mutex sessions_mu_;
  std::condition_variable sessions_cv_;
  std::unordered_set<SessionBase*> sessions_;  // guarded by sessions_mu_
};

// ---------------------------------------------------------------------------------------------

// One connection. `Stream` is PlainStream (a Beast tcp stream) today; a TLS stream
// (beast::ssl_stream over a PlainStream) needs only its own Begin() (handshake) and Shutdown()
// (TLS close_notify).
// Every handler runs on the stream's strand.
template <typename Stream>
class Session final : public SessionBase {
 public:
  Session(ListenerCore& listener, Stream stream)
      : listener_(listener), stream_(std::move(stream)) {
    listener_.Register(this);
    error_code ec;
    tcp::endpoint peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) {
      peer_ip_ = peer.address().to_string();
      peer_port_ = peer.port();
    }
  }
  ~Session() override { listener_.Unregister(this); }

  void Begin() {
    net::dispatch(stream_.get_executor(), [self = Self()] { self->ReadRequest(); });
  }

  void RequestStop() override {
    net::dispatch(stream_.get_executor(), [self = Self()] {
      // Waiting for a request that has not started: nothing in flight, close now.
      if (self->state_ == State::kReading && self->buffer_.size() == 0 &&
          !(self->parser_ && self->parser_->got_some()))
        self->CloseSocket();
    });
  }

  void ForceClose() override {
    net::dispatch(stream_.get_executor(), [self = Self()] { self->CloseSocket(); });
  }

 private:
  enum class State { kReading, kHandling, kWriting, kLingering, kClosed };
  using Parser = http::request_parser<http::string_body>;

  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  auto& Socket() { return beast::get_lowest_layer(stream_).socket(); }
  void ArmTimer() { beast::get_lowest_layer(stream_).expires_after(listener_.options().io_timeout); }

  void ReadRequest() {
    if (listener_.stopping() && buffer_.size() == 0) return Shutdown();
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(
        std::min<size_t>(listener_.options().max_header_bytes, UINT32_MAX)));
    parser_->body_limit(listener_.options().max_body_bytes);
    state_ = State::kReading;
    ArmTimer();
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = Self()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    if (ec) return OnReadError(ec);
    if (parser_->is_done()) return HandleRequest();
    // A body follows. A client that sent "Expect: 100-continue" waits for our go-ahead.
    const auto& fields = parser_->get();
    auto expect = fields.find(http::field::expect);
    if (expect != fields.end() && EqualsIgnoreCase(View(expect->value()), "100-continue") &&
        buffer_.size() == 0) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = Self()](error_code wec, size_t) {
                         if (wec) return self->CloseSocket();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_, [self = Self()](error_code ec, size_t) {
      if (ec) return self->OnReadError(ec);
      self->HandleRequest();
    });
  }

  void OnReadError(error_code ec) {
    static const auto& http_category = http::make_error_code(http::error::end_of_stream).category();
    if (ec.category() != http_category || ec == http::error::end_of_stream ||
        ec == http::error::partial_message) {
      // Timeout, reset, abort, or the client closed: nothing to answer.
      return CloseSocket();
    }
    response_ = HttpResponse{};
    if (ec == http::error::body_limit) {
      SetError(response_, 413, "RequestEntityTooLargeException",
               "The request body exceeds the limit of " +
                   std::to_string(listener_.options().max_body_bytes) + " bytes.");
    } else if (ec == http::error::header_limit) {
      SetError(response_, 431, "RequestHeaderFieldsTooLargeException",
               "The request header exceeds the limit of " +
                   std::to_string(listener_.options().max_header_bytes) + " bytes.");
    } else {
      SetError(response_, 400, "BadRequestException", "Malformed HTTP request: " + ec.message() + ".");
    }
    head_only_ = false;
    linger_ = true;  // the rest of the request is still coming
    WriteResponse(/*keep_alive=*/false);
  }

  void HandleRequest() {
    state_ = State::kHandling;
    auto& message = parser_->get();
    headers_.clear();
    for (const auto& field : message) headers_.push_back({View(field.name_string()), View(field.value())});
    HttpRequest request;
    request.method = View(message.method_string());
    request.target = View(message.target());
    const size_t q = request.target.find('?');
    request.path = request.target.substr(0, q);
    request.query = q == std::string_view::npos ? std::string_view() : request.target.substr(q + 1);
    request.headers = headers_;
    request.body = message.body();
    request.peer_ip = peer_ip_;
    request.peer_port = peer_port_;
    request.endpoint_id = listener_.options().endpoint_id;
    request.keep_alive = message.keep_alive();
    head_only_ = message.method() == http::verb::head;

    response_.status = 200;
    response_.content_type.clear();
    response_.headers.clear();
    response_.body.clear();
    response_.close = false;
    try {
      listener_.handler()(request, response_);
    } catch (...) {
      SetError(response_, 500, "InternalFailure", "The server failed to process the request.");
    }
    WriteResponse(request.keep_alive && !response_.close && !listener_.stopping());
  }

  void WriteResponse(bool keep_alive) {
    state_ = State::kWriting;
    keep_alive_ = keep_alive;
    const int status = response_.status >= 100 && response_.status <= 999 ? response_.status : 500;
    head_.clear();
    head_ += "HTTP/1.1 ";
    AppendNumber(head_, static_cast<uint64_t>(status));
    head_ += ' ';
    beast::string_view reason = http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)));
    head_.append(reason.data(), reason.size());
    head_ += "\r\nDate: ";
    head_ += HttpDate();
    head_ += "\r\n";
    if (!response_.content_type.empty() && IsSendableHeader("x", response_.content_type)) {
      head_ += "Content-Type: ";
      head_ += response_.content_type;
      head_ += "\r\n";
    }
    for (const auto& [name, value] : response_.headers) {
      if (!IsSendableHeader(name, value)) continue;
      head_ += name;
      head_ += ": ";
      head_ += value;
      head_ += "\r\n";
    }
    head_ += "Content-Length: ";
    AppendNumber(head_, response_.body.size());
    head_ += keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
    const std::array<net::const_buffer, 2> buffers = {
        net::buffer(head_), head_only_ ? net::const_buffer() : net::buffer(response_.body)};
    ArmTimer();
    net::async_write(stream_, buffers, [self = Self()](error_code ec, size_t) {
      if (ec) return self->CloseSocket();
      if (!self->keep_alive_) return self->Shutdown();
      self->ReadRequest();
    });
  }

  // Orderly close: FIN after the last response. When the client may still be sending (an unread
  // body after an error, pipelined requests), read and discard until it closes or a short
  // deadline passes: closing with unread data sends RST, which can destroy the response before
  // the client reads it.
  void Shutdown() {
    error_code ignored;
    Socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (!linger_ && buffer_.size() == 0) return CloseSocket();
    state_ = State::kLingering;
    beast::get_lowest_layer(stream_).expires_after(
        std::min<std::chrono::milliseconds>(listener_.options().io_timeout, std::chrono::seconds(2)));
    buffer_.clear();
    Discard();
  }

  void Discard() {
    beast::get_lowest_layer(stream_).async_read_some(
        buffer_.prepare(4096), [self = Self()](error_code ec, size_t) {
          if (ec) return self->CloseSocket();
          self->Discard();
        });
  }

  void CloseSocket() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    error_code ignored;
    beast::get_lowest_layer(stream_).cancel();
    Socket().close(ignored);
  }

  ListenerCore& listener_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  std::vector<HttpHeader> headers_;
  HttpResponse response_;
  std::string head_;
  std::string peer_ip_;
  uint16_t peer_port_ = 0;
  State state_ = State::kReading;
  bool keep_alive_ = true;
  bool head_only_ = false;
  bool linger_ = false;
};

void ListenerCore::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_.get_executor()), [this](error_code ec, StrandSocket socket) {
    if (ec) {
      if (!acceptor_.is_open() || ec == net::error::operation_aborted) return;
      // Out of descriptors or similar: back off briefly instead of spinning.
      retry_timer_.expires_after(std::chrono::milliseconds(50));
      retry_timer_.async_wait([this](error_code wec) {
        if (!wec && acceptor_.is_open()) Accept();
      });
      return;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto session = std::make_shared<Session<PlainStream>>(*this, PlainStream(std::move(socket)));
    session->Begin();
    Accept();
  });
}

// ---------------------------------------------------------------------------------------------

class HttpListener::Impl : public ListenerCore {
 public:
  using ListenerCore::ListenerCore;
};

HttpListener::HttpListener(HttpListenerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpListener::~HttpListener() = default;

Status HttpListener::Start() { return impl_->Start(); }
uint16_t HttpListener::port() const { return impl_->port(); }
void HttpListener::Stop() { impl_->Stop(); }
size_t HttpListener::connection_count() const { return impl_->connection_count(); }

}  // namespace meridian::server
