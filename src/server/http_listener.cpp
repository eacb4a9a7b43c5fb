#include "server/http_listener.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <ctime>
#include <future>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unordered_set>

#include "common/wake_batch.h"
#include "server/tls/identity.h"

namespace meridian::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
// Concrete executor types (not the type-erased any_io_executor): no allocation or indirect call
// when handlers are dispatched. Each connection lives on one worker's single-threaded io_context,
// so its handlers never run concurrently without a strand.
using Executor = net::io_context::executor_type;
using WorkerSocket = tcp::socket::rebind_executor<Executor>::other;
using PlainStream = beast::basic_stream<tcp, Executor, beast::unlimited_rate_policy>;
using TlsStream = beast::ssl_stream<PlainStream>;

// An allocator that wipes memory before giving it back, for buffers that held a request or its
// body (plaintext, data keys, secret values): a buffer that grows or is freed leaves no copy.
template <typename T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() = default;
  template <typename U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}
  T* allocate(size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, size_t n) noexcept {
    OPENSSL_cleanse(p, n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <typename U>
  bool operator==(const WipingAllocator<U>&) const noexcept { return true; }
};
using WipingBuffer = beast::basic_flat_buffer<WipingAllocator<char>>;
using WipingStringBody = http::basic_string_body<char, std::char_traits<char>, WipingAllocator<char>>;

void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
}

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
  // The response to the request the connection is waiting on (AsyncHttpHandler); any thread.
  virtual void DeliverResponse(HttpResponse response) = 0;
  // The same, on the connection's own thread (called by its Worker).
  virtual void ReceiveResponse(HttpResponse response) = 0;
};

// One I/O thread's event loop (an io_context run by exactly that thread) and the connections on
// it. Responses finished on other threads (AsyncHttpHandler: the audit log's writer) reach the
// worker through its mailbox: the first one queued posts a handler that delivers every response
// queued by the time it runs, so a burst of completions costs one wake-up of the worker, and a
// thread completing a batch under a WakeBatch (common/wake_batch.h) wakes it once per batch.
class Worker {
 public:
  Worker() : ioc_(1) {}  // concurrency hint: one thread runs it
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  net::io_context& ioc() { return ioc_; }
  Executor executor() { return ioc_.get_executor(); }
  bool on_this_thread() { return ioc_.get_executor().running_in_this_thread(); }

  // Any thread: queues `response` for `session` and wakes the worker unless a wake is pending.
  void Post(std::shared_ptr<SessionBase> session, HttpResponse response) {
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      mailbox_.emplace_back(std::move(session), std::move(response));
      wake = !drain_pending_;
      drain_pending_ = true;
    }
    if (wake) WakeBatch::Wake(this, [this] { net::post(ioc_, [this] { Drain(); }); });
  }

 private:
  void Drain() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      draining_.swap(mailbox_);
      drain_pending_ = false;
    }
    for (auto& [session, response] : draining_) {
      try {
        session->ReceiveResponse(std::move(response));
      } catch (...) {  // out of memory writing the response: drop the connection, not the others
        session->ForceClose();
      }
    }
    draining_.clear();  // releases the sessions; keeps the capacity for the next burst
  }

  net::io_context ioc_;
  std::mutex mu_;
  std::vector<std::pair<std::shared_ptr<SessionBase>, HttpResponse>> mailbox_;  // guarded by mu_
  bool drain_pending_ = false;                                                   // guarded by mu_
  std::vector<std::pair<std::shared_ptr<SessionBase>, HttpResponse>> draining_;  // worker thread only
};

// What one request's HttpResponder talks to. It holds the connection (so that it outlives the
// wait) until the response is delivered or the connection gives up (Detach), and the request's
// storage (so the views stay valid) for as long as the responder exists.
class HttpResponseSink {
 public:
  HttpResponseSink(std::shared_ptr<SessionBase> session, std::shared_ptr<const void> request_storage)
      : session_(std::move(session)), request_storage_(std::move(request_storage)) {}

  // Hands `response` to the connection, once; later calls and calls after Detach do nothing.
  void Complete(HttpResponse response) {
    std::shared_ptr<SessionBase> session;
    {
      std::lock_guard<std::mutex> lock(mu_);
      session = std::move(session_);
      session_.reset();
    }
    if (session) session->DeliverResponse(std::move(response));
  }

  // The connection closed while waiting: release it.
  void Detach() {
    std::lock_guard<std::mutex> lock(mu_);
    session_.reset();
  }

 private:
  std::mutex mu_;
  std::shared_ptr<SessionBase> session_;  // guarded by mu_; null once completed or detached
  const std::shared_ptr<const void> request_storage_;
};

HttpResponder::HttpResponder(std::shared_ptr<HttpResponseSink> sink) : sink_(std::move(sink)) {}

HttpResponder& HttpResponder::operator=(HttpResponder&& other) noexcept {
  if (this != &other) {
    HttpResponder discarded(std::move(*this));  // answers 500 if it was still pending
    sink_ = std::move(other.sink_);
  }
  return *this;
}

HttpResponder::~HttpResponder() {
  if (!sink_) return;
  HttpResponse failure;
  SetError(failure, 500, "InternalFailure", "The server failed to process the request.");
  try {
    sink_->Complete(std::move(failure));
  } catch (...) {  // out of memory while posting: the connection is closed by Stop() at the latest
  }
}

void HttpResponder::Send(HttpResponse response) {
  if (!sink_) return;
  std::shared_ptr<HttpResponseSink> sink = std::move(sink_);
  sink_.reset();
  sink->Complete(std::move(response));
}

// The listener proper: the acceptor, the workers (one thread and io_context each; connections are
// dealt to them in turn as they are accepted), and the registry of open connections.
class ListenerCore {
 public:
  ListenerCore(HttpListenerOptions options, HttpHandler handler, AsyncHttpHandler async_handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        async_handler_(std::move(async_handler)),
        workers_(MakeWorkers(ThreadCount(options_))),
        acceptor_(workers_.front()->executor()),
        retry_timer_(workers_.front()->executor()) {}

  ~ListenerCore() { Stop(); }

  static int ThreadCount(const HttpListenerOptions& options) {
    if (options.threads > 0) return options.threads;
    return std::max(1u, std::thread::hardware_concurrency());
  }

  static std::vector<std::unique_ptr<Worker>> MakeWorkers(int count) {
    std::vector<std::unique_ptr<Worker>> workers;
    for (int i = 0; i < count; ++i) workers.push_back(std::make_unique<Worker>());
    return workers;
  }

  Status Start() {
    std::lock_guard<std::mutex> lock(lifecycle_mu_);
    if (started_) return ListenError("the listener is already started");
    if (options_.tls && !ssl_context_) {
      net::ssl::context context(net::ssl::context::tls_server);
      MERIDIAN_RETURN_IF_ERROR(tls::ConfigureServerContext(context.native_handle(), *options_.tls));
      ssl_context_.emplace(std::move(context));
    }
    error_code ec;
    net::ip::address address = net::ip::make_address(options_.address, ec);
    if (ec) return ListenError("invalid listen address '" + options_.address + "': " + ec.message());
    tcp::endpoint endpoint(address, options_.port);
    const std::string where = options_.address + ":" + std::to_string(options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec && options_.reuse_port)
      acceptor_.set_option(net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
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
    for (auto& worker : workers_) {
      work_.push_back(net::make_work_guard(worker->ioc()));
      threads_.emplace_back([this, w = worker.get()] { RunThread(*w); });
    }
    return Status::Ok();
  }

  void Stop() {
    std::lock_guard<std::mutex> lifecycle(lifecycle_mu_);
    if (!started_ || stopped_) return;
    stopped_ = true;
    stopping_.store(true);

    // 1. Stop accepting (on the acceptor's thread: an accept may be completing).
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
    work_.clear();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

  uint16_t port() const { return port_; }

  // An exception escaping a handler (a bug, or std::bad_alloc) must not take the thread down
  // with it: the connection whose handler threw is dropped and the loop goes on.
  void RunThread(Worker& worker) {
    while (true) {
      try {
        worker.ioc().run();
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
  const AsyncHttpHandler& async_handler() const { return async_handler_; }
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

  // Declared before the workers: a connection destroyed with its worker's io_context (a handler
  // still queued at destruction) unregisters itself.
  mutable std::mutex sessions_mu_;
  std::condition_variable sessions_cv_;
  std::unordered_set<SessionBase*> sessions_;  // guarded by sessions_mu_

  const HttpListenerOptions options_;
  const HttpHandler handler_;             // one of the two is set
  const AsyncHttpHandler async_handler_;
  std::vector<std::unique_ptr<Worker>> workers_;  // never empty
  size_t next_worker_ = 0;                        // the acceptor's thread only
  std::optional<net::ssl::context> ssl_context_;  // set by Start() when options_.tls
  tcp::acceptor acceptor_;                        // on workers_.front()
  net::steady_timer retry_timer_;
  std::vector<net::executor_work_guard<Executor>> work_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};

  std::mutex lifecycle_mu_;
  bool started_ = false;  // guarded by lifecycle_mu_
  bool stopped_ = false;  // guarded by lifecycle_mu_
};

// ---------------------------------------------------------------------------------------------

// One connection over `Stream`: PlainStream (a Beast tcp stream) or TlsStream (a Beast ssl_stream
// over a PlainStream); TLS adds a handshake before the first request and close_notify after the
// last response. Every handler runs on the worker's thread.
template <typename Stream>
class Session final : public SessionBase {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  template <typename... StreamArgs>
  explicit Session(ListenerCore& listener, Worker& worker, StreamArgs&&... stream_args)
      : listener_(listener),
        worker_(worker),
        stream_(std::forward<StreamArgs>(stream_args)...),
        request_(std::make_shared<RequestStorage>()) {
    listener_.Register(this);
    request_->endpoint_id = listener_.options().endpoint_id;
    error_code ec;
    tcp::endpoint peer = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) {
      request_->peer_ip = peer.address().to_string();
      peer_port_ = peer.port();
    }
  }
  ~Session() override { listener_.Unregister(this); }

  void Begin() {
    net::dispatch(stream_.get_executor(), [self = Self()] {
      if constexpr (kTls) {
        self->Handshake();
      } else {
        self->ReadRequest();
      }
    });
  }

  void RequestStop() override {
    net::dispatch(stream_.get_executor(), [self = Self()] {
      // Waiting for a request that has not started (or still shaking hands): close now.
      if (self->state_ == State::kHandshaking ||
          (self->state_ == State::kReading && self->buffer_.size() == 0 &&
           !(self->request_->parser && self->request_->parser->got_some())))
        self->CloseSocket();
    });
  }

  void ForceClose() override {
    net::dispatch(stream_.get_executor(), [self = Self()] { self->CloseSocket(); });
  }

  void DeliverResponse(HttpResponse response) override {
    // Inline when called on this connection's thread (a handler answering at once), else through
    // the worker's mailbox.
    if (worker_.on_this_thread()) return OnDeliveredResponse(std::move(response));
    worker_.Post(Self(), std::move(response));
  }

  void ReceiveResponse(HttpResponse response) override { OnDeliveredResponse(std::move(response)); }

 private:
  enum class State { kHandshaking, kReading, kHandling, kWriting, kLingering, kClosed };
  // The body's memory is wiped when freed (it may hold plaintext).
  using Parser = http::request_parser<WipingStringBody>;

  // What the HttpRequest views point into, besides the listener's options. Separate from the
  // session so that a pending HttpResponder keeps it alive even if the connection is closed.
  struct RequestStorage {
    ~RequestStorage() { WipeBody(); }
    // A short body lives inside the string (no allocation for the allocator to wipe).
    void WipeBody() {
      if (!parser) return;
      auto& body = parser->get().body();
      if (!body.empty()) OPENSSL_cleanse(body.data(), body.size());
    }
    std::optional<Parser> parser;
    std::vector<HttpHeader> headers;
    std::string peer_ip;
    std::string endpoint_id;
    std::string peer_certificate_name;
    std::string peer_certificate_region;
  };

  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  auto& Socket() { return beast::get_lowest_layer(stream_).socket(); }
  void ArmTimer() { beast::get_lowest_layer(stream_).expires_after(listener_.options().io_timeout); }
  std::chrono::milliseconds LingerTimeout() const {
    return std::min<std::chrono::milliseconds>(listener_.options().io_timeout, std::chrono::seconds(2));
  }
  Parser& parser() { return *request_->parser; }

  // TLS 1.3 only, as configured on the listener's context: anything else (TLS 1.2, plaintext
  // HTTP, a missing or untrusted client certificate under mutual TLS) fails here, and the
  // connection closes without an HTTP answer.
  void Handshake() {
    state_ = State::kHandshaking;
    ArmTimer();
    stream_.async_handshake(net::ssl::stream_base::server, [self = Self()](error_code ec) {
      if (ec) return self->CloseSocket();
      self->ReadPeerIdentity();
      self->ReadRequest();
    });
  }

  void ReadPeerIdentity() {
    if constexpr (kTls) {
      SSL* ssl = stream_.native_handle();
      const X509* certificate = SSL_get0_peer_certificate(ssl);
      if (certificate == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return;
      tls::CertificateIdentity identity = tls::IdentityOf(certificate);
      request_->peer_certificate_name = std::move(identity.common_name);
      request_->peer_certificate_region = std::move(identity.region);
    }
  }

  void ReadRequest() {
    if (listener_.stopping() && buffer_.size() == 0) return Shutdown();
    Parser& p = request_->parser.emplace();
    p.header_limit(static_cast<uint32_t>(std::min<size_t>(listener_.options().max_header_bytes, UINT32_MAX)));
    p.body_limit(listener_.options().max_body_bytes);
    state_ = State::kReading;
    ArmTimer();
    http::async_read_header(stream_, buffer_, p, [self = Self()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    if (ec) return OnReadError(ec);
    if (parser().is_done()) return HandleRequest();
    // A body follows. A client that sent "Expect: 100-continue" waits for our go-ahead.
    const auto& fields = parser().get();
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
    http::async_read(stream_, buffer_, parser(), [self = Self()](error_code ec, size_t) {
      if (ec) return self->OnReadError(ec);
      self->HandleRequest();
    });
  }

  void OnReadError(error_code ec) {
    static const auto& http_category = http::make_error_code(http::error::end_of_stream).category();
    if (ec.category() != http_category || ec == http::error::end_of_stream ||
        ec == http::error::partial_message) {
      // Timeout, reset, abort, TLS failure, or the client closed: nothing to answer.
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
    RequestStorage& storage = *request_;
    auto& message = parser().get();
    storage.headers.clear();
    for (const auto& field : message) storage.headers.push_back({View(field.name_string()), View(field.value())});
    HttpRequest request;
    request.method = View(message.method_string());
    request.target = View(message.target());
    const size_t q = request.target.find('?');
    request.path = request.target.substr(0, q);
    request.query = q == std::string_view::npos ? std::string_view() : request.target.substr(q + 1);
    request.headers = storage.headers;
    request.body = message.body();
    request.peer_ip = storage.peer_ip;
    request.peer_port = peer_port_;
    request.endpoint_id = storage.endpoint_id;
    request.keep_alive = message.keep_alive();
    request.tls = kTls;
    request.peer_certificate_name = storage.peer_certificate_name;
    request.peer_certificate_region = storage.peer_certificate_region;
    head_only_ = message.method() == http::verb::head;
    request_keep_alive_ = request.keep_alive;

    response_.status = 200;
    response_.content_type.clear();
    response_.headers.clear();
    response_.body.clear();
    response_.close = false;

    if (const AsyncHttpHandler& async_handler = listener_.async_handler()) {
      // The response arrives through the responder (OnDeliveredResponse), maybe before the
      // handler returns: nothing may touch the session's state after the call.
      pending_ = std::make_shared<HttpResponseSink>(Self(), request_);
      HttpResponder responder(pending_);
      try {
        async_handler(request, std::move(responder));
      } catch (...) {
        // The responder was destroyed during unwinding (500), or the handler kept it.
      }
      return;
    }
    try {
      listener_.handler()(request, response_);
    } catch (...) {
      SetError(response_, 500, "InternalFailure", "The server failed to process the request.");
    }
    WriteResponse(request.keep_alive && !response_.close && !listener_.stopping());
  }

  void OnDeliveredResponse(HttpResponse response) {
    if (state_ != State::kHandling || !pending_) return;  // closed meanwhile (Stop, error)
    pending_.reset();
    response_ = std::move(response);
    WriteResponse(request_keep_alive_ && !response_.close && !listener_.stopping());
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
    // Not a std::array of two buffers: Asio consumes those by returning an empty first buffer,
    // which sends Beast 1.74's flat_stream (inside ssl_stream) into an endless zero-byte write
    // loop once the head is written and the body exceeds 16 KiB. buffers_cat has no such case.
    const auto buffers = beast::buffers_cat(net::buffer(head_),
                                            head_only_ ? net::const_buffer() : net::buffer(response_.body));
    ArmTimer();
    net::async_write(stream_, buffers, [self = Self()](error_code ec, size_t) {
      self->WipeExchange();
      if (ec) return self->CloseSocket();
      if (!self->keep_alive_) return self->Shutdown();
      self->ReadRequest();
    });
  }

  // The request and response just exchanged may hold plaintext (Encrypt's input, Decrypt's and
  // GenerateDataKey's output, secret values): wipe them before the buffers are reused. The read
  // buffer is wiped whole once it holds no pipelined request; while it does, the next exchange
  // that empties it wipes it (and growing or freeing it always wipes the old storage).
  void WipeExchange() {
    Wipe(response_.body);
    request_->WipeBody();
    if (buffer_.size() == 0 && buffer_.capacity() != 0) {
      auto storage = buffer_.prepare(buffer_.capacity());
      OPENSSL_cleanse(storage.data(), storage.size());
    }
  }

  // Orderly close after the last response. TLS first sends close_notify and waits (briefly) for
  // the client's. Then FIN; when the client may still be sending (an unread body after an error,
  // pipelined requests), read and discard until it closes or a short deadline passes: closing
  // with unread data sends RST, which can destroy the response before the client reads it.
  void Shutdown() {
    state_ = State::kLingering;
    beast::get_lowest_layer(stream_).expires_after(LingerTimeout());
    if constexpr (kTls) {
      stream_.async_shutdown([self = Self()](error_code ec) {
        if (!ec) return self->CloseSocket();  // the client answered close_notify: nothing follows
        self->ShutdownTcp(/*discard=*/true);
      });
    } else {
      ShutdownTcp(linger_ || buffer_.size() != 0);
    }
  }

  void ShutdownTcp(bool discard) {
    error_code ignored;
    Socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (!discard || state_ == State::kClosed) return CloseSocket();
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
    if (pending_) {  // a responder is still out: it must not keep this connection
      pending_->Detach();
      pending_.reset();
    }
    error_code ignored;
    beast::get_lowest_layer(stream_).cancel();
    Socket().close(ignored);
  }

  ListenerCore& listener_;
  Worker& worker_;
  Stream stream_;
  WipingBuffer buffer_;  // raw request bytes; wiped when it grows, after each request, and when freed
  const std::shared_ptr<RequestStorage> request_;
  std::shared_ptr<HttpResponseSink> pending_;  // the request's sink while an async handler owes a response
  HttpResponse response_;
  std::string head_;
  uint16_t peer_port_ = 0;
  State state_ = State::kReading;
  bool keep_alive_ = true;
  bool request_keep_alive_ = true;
  bool head_only_ = false;
  bool linger_ = false;
};

void ListenerCore::Accept() {
  Worker& worker = *workers_[next_worker_];
  acceptor_.async_accept(worker.executor(), [this, &worker](error_code ec, WorkerSocket socket) {
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
    if (ssl_context_) {
      auto session =
          std::make_shared<Session<TlsStream>>(*this, worker, PlainStream(std::move(socket)), *ssl_context_);
      session->Begin();
    } else {
      auto session = std::make_shared<Session<PlainStream>>(*this, worker, PlainStream(std::move(socket)));
      session->Begin();
    }
    next_worker_ = (next_worker_ + 1) % workers_.size();
    Accept();
  });
}

// ---------------------------------------------------------------------------------------------

class HttpListener::Impl : public ListenerCore {
 public:
  using ListenerCore::ListenerCore;
};

HttpListener::HttpListener(HttpListenerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), AsyncHttpHandler())) {}

HttpListener::HttpListener(HttpListenerOptions options, AsyncHttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), HttpHandler(), std::move(handler))) {}

HttpListener::~HttpListener() = default;

Status HttpListener::Start() { return impl_->Start(); }
uint16_t HttpListener::port() const { return impl_->port(); }
void HttpListener::Stop() { impl_->Stop(); }
size_t HttpListener::connection_count() const { return impl_->connection_count(); }

}  // namespace meridian::server
