// Test support: a small blocking HTTP/1.1 client (Beast) over a real loopback socket.
#pragma once

#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <string>
#include <string_view>

namespace meridian::server::test_support {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Response = http::response<http::string_body>;

class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    // Never let a test hang on a read: give up after 5 s.
    timeval tv{5, 0};
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  void Send(std::string_view bytes) { net::write(socket_, net::buffer(bytes.data(), bytes.size())); }

  void Send(http::request<http::string_body> request) {
    request.prepare_payload();
    http::write(socket_, request);
  }

  Response Read() {
    Response response;
    http::read(socket_, buffer_, response);
    return response;
  }

  // Whether the server closed the connection (EOF or reset) before `timeout`.
  bool ClosedWithin(std::chrono::milliseconds timeout) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    boost::system::error_code ec;
    while (true) {
      size_t n = socket_.read_some(net::buffer(&c, 1), ec);
      if (ec == net::error::eof || ec == net::error::connection_reset) return true;
      if (ec) return false;  // timed out: still open
      (void)n;               // unexpected byte: keep reading
    }
  }

  tcp::socket& socket() { return socket_; }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

inline http::request<http::string_body> Get(std::string target) {
  http::request<http::string_body> r(http::verb::get, target, 11);
  r.set(http::field::host, "localhost");
  return r;
}

inline http::request<http::string_body> Post(std::string target, std::string body) {
  http::request<http::string_body> r(http::verb::post, target, 11);
  r.set(http::field::host, "localhost");
  r.set(http::field::content_type, "application/x-amz-json-1.1");
  r.body() = std::move(body);
  return r;
}

}  // namespace meridian::server::test_support
