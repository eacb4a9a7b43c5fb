// HttpListener, driven in-process by a small Beast client over real loopback sockets.
#include "server/http_listener.h"
#include "server/http_test_client.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <thread>

namespace meridian::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Response = http::response<http::string_body>;
using test_support::Client;
using test_support::Get;
using test_support::Post;

// Echoes what the listener parsed, so tests can check every field.
void EchoHandler(const HttpRequest& r, HttpResponse& out) {
  out.content_type = "text/plain";
  out.headers.emplace_back("x-amzn-RequestId", "req-1");
  out.body = std::string(r.method) + " " + std::string(r.path) + " ?" + std::string(r.query) +
             " body=" + std::string(r.body) + " endpoint=" + std::string(r.endpoint_id) +
             " peer=" + std::string(r.peer_ip) + " port=" + std::to_string(r.peer_port) +
             " headers=" + std::to_string(r.headers.size()) +
             " host=" + std::string(r.Header("HOST").value_or("-"));
}

std::unique_ptr<HttpListener> StartListener(HttpListenerOptions options,
                                            HttpHandler handler = EchoHandler) {
  auto listener = std::make_unique<HttpListener>(std::move(options), std::move(handler));
  Status st = listener->Start();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_NE(listener->port(), 0);
  return listener;
}

HttpListenerOptions Options() {
  HttpListenerOptions o;
  o.endpoint_id = "vpce-0abc";
  o.threads = 2;
  return o;
}

TEST(HttpListener, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto listener = StartListener(Options());
  Client client(listener->port());
  std::set<std::string> ports;
  for (int i = 0; i < 5; ++i) {
    client.Send(Post("/item?i=" + std::to_string(i), "payload-" + std::to_string(i)));
    Response r = client.Read();
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_TRUE(r.keep_alive());
    EXPECT_EQ(r[http::field::content_type], "text/plain");
    EXPECT_EQ(r["x-amzn-RequestId"], "req-1");
    EXPECT_FALSE(r[http::field::date].empty());
    const std::string& body = r.body();
    EXPECT_NE(body.find("POST /item ?i=" + std::to_string(i) + " body=payload-" + std::to_string(i)),
              std::string::npos)
        << body;
    EXPECT_NE(body.find("endpoint=vpce-0abc peer=127.0.0.1"), std::string::npos) << body;
    EXPECT_NE(body.find("host=localhost"), std::string::npos) << body;
    ports.insert(body.substr(body.find("port=")));
  }
  EXPECT_EQ(ports.size(), 1u);  // the same client port: one connection
  EXPECT_EQ(listener->connection_count(), 1u);
}

TEST(HttpListener, PipelinedRequestsAnswerInOrder) {
  auto listener = StartListener(Options());
  Client client(listener->port());
  client.Send(
      "GET /first HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /second HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
      "POST /third HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
      "GET /fourth HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  EXPECT_NE(client.Read().body().find("GET /first ? body="), std::string::npos);
  EXPECT_NE(client.Read().body().find("POST /second ? body=hello"), std::string::npos);
  EXPECT_NE(client.Read().body().find("POST /third ? body=abc"), std::string::npos);
  Response last = client.Read();
  EXPECT_NE(last.body().find("GET /fourth"), std::string::npos);
  EXPECT_FALSE(last.keep_alive());
  EXPECT_TRUE(client.ClosedWithin(std::chrono::seconds(2)));
}

TEST(HttpListener, OversizeBodyGets413AndClose) {
  HttpListenerOptions options = Options();
  options.max_body_bytes = 1024;
  std::atomic<int> handled{0};
  auto listener = StartListener(options, [&](const HttpRequest& r, HttpResponse& out) {
    ++handled;
    EchoHandler(r, out);
  });
  {  // Content-Length over the limit: refused from the header alone.
    Client client(listener->port());
    client.Send(Post("/", std::string(2000, 'x')));
    Response r = client.Read();
    EXPECT_EQ(r.result_int(), 413);
    EXPECT_FALSE(r.keep_alive());
    EXPECT_EQ(r[http::field::content_type], "application/x-amz-json-1.1");
    EXPECT_EQ(r.body(),
              "{\"__type\":\"RequestEntityTooLargeException\",\"message\":\"The request body "
              "exceeds the limit of 1024 bytes.\"}");
    EXPECT_TRUE(client.ClosedWithin(std::chrono::seconds(3)));
  }
  {  // Chunked, growing past the limit.
    Client client(listener->port());
    client.Send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" +
                std::string(1024, 'y') + "\r\n10\r\n" + std::string(16, 'z') + "\r\n0\r\n\r\n");
    Response r = client.Read();
    EXPECT_EQ(r.result_int(), 413);
  }
  {  // Exactly at the limit is fine.
    Client client(listener->port());
    client.Send(Post("/", std::string(1024, 'x')));
    EXPECT_EQ(client.Read().result_int(), 200);
  }
  EXPECT_EQ(handled.load(), 1);
}

TEST(HttpListener, OversizeHeaderGets431) {
  HttpListenerOptions options = Options();
  options.max_header_bytes = 2048;
  auto listener = StartListener(options);
  Client client(listener->port());
  auto request = Get("/");
  request.set("X-Big", std::string(4096, 'h'));
  client.Send(request);
  Response r = client.Read();
  EXPECT_EQ(r.result_int(), 431);
  EXPECT_NE(r.body().find("RequestHeaderFieldsTooLargeException"), std::string::npos);
  EXPECT_TRUE(client.ClosedWithin(std::chrono::seconds(3)));
}

TEST(HttpListener, GarbageGets400AndTheServerKeepsServing) {
  auto listener = StartListener(Options());
  const std::string garbage[] = {
      std::string("\x00\x01\x02garbage\r\n\r\n", 14),
      "GET / HTTP/9.9\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Header Line\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "G\xff\xfe / HTTP/1.1\r\n\r\n",
  };
  for (const std::string& bytes : garbage) {
    SCOPED_TRACE(bytes);
    Client client(listener->port());
    client.Send(bytes);
    Response r = client.Read();
    EXPECT_EQ(r.result_int(), 400);
    EXPECT_NE(r.body().find("\"__type\":\"BadRequestException\""), std::string::npos) << r.body();
    EXPECT_FALSE(r.keep_alive());
    EXPECT_TRUE(client.ClosedWithin(std::chrono::seconds(3)));
  }
  // Random bytes, then the client vanishes mid-request.
  for (int i = 0; i < 20; ++i) {
    Client client(listener->port());
    std::string noise;
    for (int j = 0; j < 200; ++j) noise.push_back(static_cast<char>((i * 131 + j * 17) & 0xff));
    boost::system::error_code ec;
    net::write(client.socket(), net::buffer(noise), ec);
  }
  Client client(listener->port());
  client.Send(Get("/still-alive"));
  EXPECT_EQ(client.Read().result_int(), 200);
}

TEST(HttpListener, IdleAndSlowConnectionsTimeOut) {
  HttpListenerOptions options = Options();
  options.io_timeout = std::chrono::milliseconds(300);
  auto listener = StartListener(options);

  Client idle(listener->port());
  auto start = Clock::now();
  EXPECT_TRUE(idle.ClosedWithin(std::chrono::seconds(3)));
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(250));

  // Slowloris: a header trickling in a byte every 50 ms never completes within the timeout.
  Client slow(listener->port());
  const std::string header = "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
  start = Clock::now();
  bool closed = false;
  for (char c : header) {
    boost::system::error_code ec;
    net::write(slow.socket(), net::buffer(&c, 1), ec);
    if (ec) {
      closed = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  closed = closed || slow.ClosedWithin(std::chrono::seconds(2));
  EXPECT_TRUE(closed);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(header.size() * 50 + 2000));

  // A connection that keeps talking stays open across many timeouts' worth of time.
  Client busy(listener->port());
  for (int i = 0; i < 8; ++i) {
    busy.Send(Get("/"));
    EXPECT_EQ(busy.Read().result_int(), 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

TEST(HttpListener, StopClosesIdleConnectionsPromptly) {
  auto listener = StartListener(Options());
  Client client(listener->port());
  client.Send(Get("/"));
  EXPECT_EQ(client.Read().result_int(), 200);
  Client never_sent(listener->port());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(listener->connection_count(), 2u);
  auto start = Clock::now();
  listener->Stop();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(client.ClosedWithin(std::chrono::seconds(1)));
  EXPECT_TRUE(never_sent.ClosedWithin(std::chrono::seconds(1)));
  EXPECT_EQ(listener->connection_count(), 0u);
  // No longer accepting.
  net::io_context ioc;
  tcp::socket s(ioc);
  boost::system::error_code ec;
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), listener->port()), ec);
  EXPECT_TRUE(ec);
  listener->Stop();  // idempotent
}

TEST(HttpListener, StopFinishesInFlightRequests) {
  std::promise<void> entered;
  std::atomic<bool> release{false};
  auto listener = StartListener(Options(), [&](const HttpRequest& r, HttpResponse& out) {
    if (r.path == "/slow") {
      entered.set_value();
      while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EchoHandler(r, out);
  });
  Client client(listener->port());
  client.Send(Get("/slow"));
  entered.get_future().wait();
  auto stopped = std::async(std::launch::async, [&] { listener->Stop(); });
  EXPECT_EQ(stopped.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  release.store(true);
  Response r = client.Read();
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_NE(r.body().find("GET /slow"), std::string::npos);
  EXPECT_FALSE(r.keep_alive());  // the server is going away
  EXPECT_EQ(stopped.wait_for(std::chrono::milliseconds(500)), std::future_status::ready);
  EXPECT_TRUE(client.ClosedWithin(std::chrono::seconds(1)));
}

TEST(HttpListener, StopForceClosesAfterDrainTimeout) {
  HttpListenerOptions options = Options();
  options.drain_timeout = std::chrono::milliseconds(200);
  auto listener = StartListener(options);
  Client partial(listener->port());
  partial.Send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly-part");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto start = Clock::now();
  listener->Stop();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(partial.ClosedWithin(std::chrono::seconds(1)));
}

TEST(HttpListener, PortsAndStartErrors) {
  auto a = StartListener(Options());
  auto b = StartListener(Options());
  EXPECT_NE(a->port(), b->port());
  EXPECT_FALSE(a->Start().ok());  // already started

  HttpListenerOptions taken = Options();
  taken.port = a->port();
  HttpListener clash(taken, EchoHandler);
  Status st = clash.Start();
  EXPECT_EQ(st.type(), "ListenError");
  EXPECT_NE(st.message().find(std::to_string(a->port())), std::string::npos) << st.message();

  HttpListenerOptions bad = Options();
  bad.address = "not-an-address";
  HttpListener invalid(bad, EchoHandler);
  EXPECT_EQ(invalid.Start().type(), "ListenError");
  EXPECT_EQ(invalid.port(), 0);
}

TEST(HttpListener, HandlerFailuresAndUnsafeHeaders) {
  auto listener = StartListener(Options(), [](const HttpRequest& r, HttpResponse& out) {
    if (r.path == "/throw") throw std::runtime_error("boom");
    out.status = 202;
    out.headers.emplace_back("X-Good", "yes");
    out.headers.emplace_back("X-Injected", "a\r\nSet-Cookie: evil=1");
    out.headers.emplace_back("Bad Name", "v");
    out.headers.emplace_back("Content-Length", "999");
    out.body = "ok";
  });
  Client client(listener->port());
  client.Send(Get("/throw"));
  Response r = client.Read();
  EXPECT_EQ(r.result_int(), 500);
  EXPECT_NE(r.body().find("InternalFailure"), std::string::npos);
  EXPECT_TRUE(client.ClosedWithin(std::chrono::seconds(2)));

  Client second(listener->port());
  second.Send(Get("/"));
  r = second.Read();
  EXPECT_EQ(r.result_int(), 202);
  EXPECT_EQ(r["X-Good"], "yes");
  EXPECT_EQ(r.count("X-Injected"), 0u);
  EXPECT_EQ(r.count("Set-Cookie"), 0u);
  EXPECT_EQ(r[http::field::content_length], "2");
  EXPECT_EQ(r.body(), "ok");
}

TEST(HttpListener, ExpectContinueHeadAndConnectionClose) {
  auto listener = StartListener(Options());
  {
    Client client(listener->port());
    client.Send("POST /c HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    std::string interim(25, '\0');
    net::read(client.socket(), net::buffer(interim));
    EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
    client.Send("body");
    EXPECT_NE(client.Read().body().find("POST /c ? body=body"), std::string::npos);
  }
  {
    Client client(listener->port());
    auto head = Get("/h");
    head.method(http::verb::head);
    client.Send(head);
    http::response_parser<http::empty_body> parser;
    parser.skip(true);  // a response to HEAD has no body
    beast::flat_buffer buffer;
    http::read(client.socket(), buffer, parser);
    EXPECT_EQ(parser.get().result_int(), 200);
    EXPECT_NE(parser.get()[http::field::content_length], "0");
  }
  {
    Client client(listener->port());
    client.Send("GET / HTTP/1.0\r\nHost: a\r\n\r\n");
    Response r = client.Read();
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_TRUE(client.ClosedWithin(std::chrono::seconds(2)));
  }
  {
    Client client(listener->port());
    auto req = Get("/");
    req.set(http::field::connection, "close");
    client.Send(req);
    Response r = client.Read();
    EXPECT_FALSE(r.keep_alive());
    EXPECT_TRUE(client.ClosedWithin(std::chrono::seconds(2)));
  }
}

TEST(HttpListener, ManyConcurrentClients) {
  std::atomic<int> handled{0};
  auto listener = StartListener(Options(), [&](const HttpRequest& r, HttpResponse& out) {
    ++handled;
    out.body = std::string(r.body);
  });
  constexpr int kClients = 16, kRequests = 200;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      Client client(listener->port());
      for (int i = 0; i < kRequests; ++i) {
        std::string body = std::to_string(c) + ":" + std::to_string(i);
        client.Send(Post("/", body));
        Response r = client.Read();
        if (r.result_int() == 200 && r.body() == body) ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), kClients * kRequests);
  EXPECT_EQ(handled.load(), kClients * kRequests);
}

TEST(AwsJsonErrorBody, EscapesMessage) {
  EXPECT_EQ(AwsJsonErrorBody("ValidationException", "bad \"x\"\\\n"),
            "{\"__type\":\"ValidationException\",\"message\":\"bad \\\"x\\\"\\\\\\u000a\"}");
}

}  // namespace
}  // namespace meridian::server
