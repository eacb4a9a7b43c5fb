// MutualTlsTransport against an in-process HttpListener over (mutual) TLS 1.3, with region
// certificates from a throw-away deployment CA.
#include "server/peer_transport.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "server/http_listener.h"
#include "server/tls/test_pki.h"

namespace meridian::server {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

class PeerTransportTest : public ::testing::Test {
 protected:
  // A region's peer endpoint: mutual TLS with `region`'s certificate; the handler answers with
  // who called (the verified client region), on which connection, and what was posted.
  std::unique_ptr<HttpListener> StartPeer(const std::string& region, HttpListenerOptions options = {}) {
    options.threads = 2;
    options.tls = pki_.Server(region, /*mutual=*/true);
    auto listener = std::make_unique<HttpListener>(options, [this](const HttpRequest& r, HttpResponse& out) {
      ++handled_;
      if (r.path == "/fail") {
        out.status = 409;
        out.content_type = "application/x-amz-json-1.1";
        out.body = AwsJsonErrorBody("ReplicationConflict", "sequence 7 expected");
        return;
      }
      if (r.path == "/plain-error") {
        out.status = 502;
        out.body = "bad gateway";
        return;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        client_ports_.insert(r.peer_port);
      }
      out.content_type = "application/json";
      out.body = "from=" + std::string(r.peer_certificate_region) + " path=" + std::string(r.path) +
                 " type=" + std::string(r.Header("content-type").value_or("-")) + " body=" + std::string(r.body);
    });
    Status st = listener->Start();
    EXPECT_TRUE(st.ok()) << st.ToString();
    return listener;
  }

  std::unique_ptr<MutualTlsTransport> Transport(const std::string& local, const std::string& peer, uint16_t port,
                                                std::chrono::milliseconds io_timeout = std::chrono::seconds(5)) {
    MutualTlsTransportOptions options;
    options.port = port;
    options.peer_region = peer;
    options.tls = pki_.Client(local);
    options.io_timeout = io_timeout;
    options.connect_timeout = std::chrono::seconds(2);
    auto transport = MutualTlsTransport::Create(std::move(options));
    EXPECT_TRUE(transport.ok()) << transport.status().ToString();
    return transport.ok() ? std::move(*transport) : nullptr;
  }

  tls::TestPki pki_;
  std::atomic<int> handled_{0};
  std::mutex mu_;
  std::set<uint16_t> client_ports_;
};

TEST_F(PeerTransportTest, PostsToTheExpectedRegionOverOneKeptAliveConnection) {
  auto peer = StartPeer("us-east-1");
  auto transport = Transport("us-west-2", "us-east-1", peer->port());
  for (int i = 0; i < 5; ++i) {
    auto response = transport->Post("/_meridian/replication/v1", "{\"n\":" + std::to_string(i) + "}");
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(*response, "from=us-west-2 path=/_meridian/replication/v1 type=application/json body={\"n\":" +
                             std::to_string(i) + "}");
  }
  EXPECT_EQ(transport->connections_opened(), 1u);
  EXPECT_EQ(client_ports_.size(), 1u);
  EXPECT_EQ(peer->connection_count(), 1u);
  // A large body both ways.
  const std::string big(3 * 1024 * 1024 / 4, 'x');
  auto response = transport->Post("/big", big);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->size(), big.size() + std::string("from=us-west-2 path=/big type=application/json body=").size());
}

// A peer endpoint that answers from another thread (as the replication endpoint does after its
// transaction commits), over mutual TLS.
TEST_F(PeerTransportTest, AsynchronousPeerHandler) {
  HttpListenerOptions options;
  options.threads = 2;
  options.tls = pki_.Server("us-east-1", /*mutual=*/true);
  HttpListener peer(options, [](const HttpRequest& request, HttpResponder responder) {
    std::thread([request, responder = std::move(responder)]() mutable {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      HttpResponse out;
      out.body = "applied " + std::string(request.body) + " from " + std::string(request.peer_certificate_region);
      responder.Send(std::move(out));
    }).detach();
  });
  ASSERT_TRUE(peer.Start().ok());
  auto transport = Transport("ap-south-1", "us-east-1", peer.port());
  for (int i = 0; i < 3; ++i) {
    auto response = transport->Post("/_meridian/replication/v1", std::to_string(i));
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(*response, "applied " + std::to_string(i) + " from ap-south-1");
  }
  EXPECT_EQ(transport->connections_opened(), 1u);
}

TEST_F(PeerTransportTest, RefusesAServerPresentingAnotherRegionsCertificate) {
  auto impostor = StartPeer("eu-west-1");  // a valid deployment certificate, for the wrong region
  auto transport = Transport("us-west-2", "us-east-1", impostor->port());
  auto response = transport->Post("/_meridian/replication/v1", "{}");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().type(), "PeerIdentityMismatch");
  EXPECT_EQ(response.status().http_status(), 403);
  EXPECT_NE(response.status().message().find("region 'eu-west-1'"), std::string::npos) << response.status().message();
  EXPECT_EQ(handled_.load(), 0);  // nothing was sent
}

TEST_F(PeerTransportTest, RefusesAServerCertificateFromAnotherCa) {
  // The right region name, signed by a CA the deployment does not trust.
  HttpListenerOptions options;
  options.threads = 1;
  options.tls = pki_.Server("us-east-1", true);
  options.tls->certificate_chain_file = pki_.Rogue("us-east-1").certificate;
  options.tls->private_key_file = pki_.Rogue("us-east-1").private_key;
  HttpListener rogue(options, [this](const HttpRequest&, HttpResponse&) { ++handled_; });
  ASSERT_TRUE(rogue.Start().ok());
  auto transport = Transport("us-west-2", "us-east-1", rogue.port());
  auto response = transport->Post("/_meridian/replication/v1", "{}");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().type(), "PeerIdentityMismatch");
  EXPECT_NE(response.status().message().find("not from the deployment CA"), std::string::npos)
      << response.status().message();
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(PeerTransportTest, AMutualTlsListenerRefusesAClientWithoutCertificate) {
  auto peer = StartPeer("us-east-1");
  // The transport insists on a client certificate ...
  MutualTlsTransportOptions options;
  options.port = peer->port();
  options.peer_region = "us-east-1";
  options.tls = pki_.Client("");
  EXPECT_EQ(MutualTlsTransport::Create(options).status().type(), "TlsConfigError");
  // ... and a TLS 1.3 client that has none gets no answer from the listener.
  ssl::context context(ssl::context::tls_client);
  ASSERT_TRUE(tls::ConfigureClientContext(context.native_handle(), pki_.Client("")).ok());
  net::io_context ioc;
  ssl::stream<tcp::socket> stream(ioc, context);
  stream.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), peer->port()));
  error_code ec;
  stream.handshake(ssl::stream_base::client, ec);  // TLS 1.3: the client finishes first
  if (!ec) {
    const std::string request = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n";
    net::write(stream, net::buffer(request), ec);
    char buf[256];
    size_t n = ec ? 0 : stream.read_some(net::buffer(buf), ec);
    EXPECT_TRUE(ec) << std::string(buf, n);
  }
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(PeerTransportTest, RefusesTls12AndPlaintextClients) {
  auto peer = StartPeer("us-east-1");
  {  // A client capped at TLS 1.2, with a valid region certificate.
    ssl::context context(ssl::context::tls_client);
    ASSERT_TRUE(tls::ConfigureClientContext(context.native_handle(), pki_.Client("us-west-2")).ok());
    ASSERT_EQ(SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION), 1);
    ASSERT_EQ(SSL_CTX_set_max_proto_version(context.native_handle(), TLS1_2_VERSION), 1);
    net::io_context ioc;
    ssl::stream<tcp::socket> stream(ioc, context);
    stream.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), peer->port()));
    error_code ec;
    stream.handshake(ssl::stream_base::client, ec);
    EXPECT_TRUE(ec);
  }
  {  // Plaintext HTTP.
    net::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), peer->port()));
    net::write(socket, net::buffer(std::string("POST /_meridian/replication/v1 HTTP/1.1\r\nHost: a\r\n\r\n")));
    std::string received;
    char buf[512];
    error_code ec;
    while (!ec) received.append(buf, socket.read_some(net::buffer(buf), ec));
    EXPECT_EQ(received.find("HTTP/"), std::string::npos);
  }
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(PeerTransportTest, PeerErrorsAreReported) {
  auto peer = StartPeer("us-east-1");
  auto transport = Transport("us-west-2", "us-east-1", peer->port());
  auto conflict = transport->Post("/fail", "{}");
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.status().type(), "ReplicationConflict");
  EXPECT_EQ(conflict.status().message(), "sequence 7 expected");
  EXPECT_EQ(conflict.status().http_status(), 409);
  auto plain = transport->Post("/plain-error", "{}");
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.status().type(), "PeerHttpError");
  EXPECT_EQ(plain.status().http_status(), 502);
  EXPECT_TRUE(transport->Post("/ok", "{}").ok());  // errors do not break the connection
  EXPECT_EQ(transport->connections_opened(), 1u);
  EXPECT_FALSE(transport->Post("no-slash", "{}").ok());
  EXPECT_FALSE(transport->Post("/a b", "{}").ok());
  EXPECT_FALSE(transport->Post("/a\r\nX-Evil: 1", "{}").ok());
}

TEST_F(PeerTransportTest, ReconnectsWhenTheServerClosedAnIdleConnection) {
  HttpListenerOptions options;
  options.io_timeout = std::chrono::milliseconds(200);  // the listener drops idle connections fast
  auto peer = StartPeer("us-east-1", options);
  auto transport = Transport("us-west-2", "us-east-1", peer->port());
  ASSERT_TRUE(transport->Post("/one", "1").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto second = transport->Post("/two", "2");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(transport->connections_opened(), 2u);
  EXPECT_EQ(handled_.load(), 2);  // the retry did not deliver twice
}

TEST_F(PeerTransportTest, UnreachableAndSilentPeersFailWithinTheTimeouts) {
  // Nothing listening: refused at once.
  uint16_t closed_port;
  {
    net::io_context ioc;
    tcp::acceptor probe(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    closed_port = probe.local_endpoint().port();
  }
  auto nowhere = Transport("us-west-2", "us-east-1", closed_port);
  auto refused = nowhere->Post("/", "{}");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().type(), "PeerUnavailable");
  EXPECT_EQ(refused.status().http_status(), 503);

  // Accepts TCP, never speaks TLS: the handshake times out (connect_timeout, 2 s here).
  net::io_context ioc;
  tcp::acceptor silent(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  auto mute = Transport("us-west-2", "us-east-1", silent.local_endpoint().port());
  auto start = Clock::now();
  auto timed_out = mute->Post("/", "{}");
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.status().type(), "PeerUnavailable");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(4));

  // Completes the handshake, then never answers: the exchange times out (io_timeout).
  std::promise<void> release;
  auto released = release.get_future().share();
  HttpListenerOptions options;
  options.threads = 1;
  options.drain_timeout = std::chrono::milliseconds(100);
  options.tls = pki_.Server("us-east-1", true);
  HttpListener stuck(options, [released](const HttpRequest&, HttpResponder responder) {
    std::thread([released, r = std::move(responder)]() mutable {
      released.wait();
      r.Send(HttpResponse{});
    }).detach();
  });
  ASSERT_TRUE(stuck.Start().ok());
  auto slow = Transport("us-west-2", "us-east-1", stuck.port(), std::chrono::milliseconds(300));
  start = Clock::now();
  auto no_answer = slow->Post("/", "{}");
  ASSERT_FALSE(no_answer.ok());
  EXPECT_EQ(no_answer.status().type(), "PeerUnavailable");
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(250));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  release.set_value();
  stuck.Stop();
}

TEST_F(PeerTransportTest, CreateValidatesItsOptions) {
  MutualTlsTransportOptions options;
  options.port = 443;
  options.peer_region = "us-east-1";
  options.tls = pki_.Client("us-west-2");
  EXPECT_TRUE(MutualTlsTransport::Create(options).ok());
  auto bad_region = options;
  bad_region.peer_region = "US East";
  EXPECT_EQ(MutualTlsTransport::Create(bad_region).status().type(), "ValidationException");
  auto no_port = options;
  no_port.port = 0;
  EXPECT_EQ(MutualTlsTransport::Create(no_port).status().type(), "ValidationException");
  auto no_ca = options;
  no_ca.tls.ca_file = pki_.dir() + "/missing.pem";
  EXPECT_EQ(MutualTlsTransport::Create(no_ca).status().type(), "TlsConfigError");
}

TEST_F(PeerTransportTest, ConcurrentPostsShareTheConnection) {
  auto peer = StartPeer("us-east-1");
  auto transport = Transport("eu-west-1", "us-east-1", peer->port());
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string body = std::to_string(t) + "-" + std::to_string(i);
        auto r = transport->Post("/c", body);
        if (r.ok() && r->ends_with("body=" + body)) ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 200);
  EXPECT_EQ(transport->connections_opened(), 1u);
}

}  // namespace
}  // namespace meridian::server
