// HttpListener over TLS 1.3 and mutual TLS, driven by real TLS clients (Beast/Asio over OpenSSL,
// and the openssl command-line client) on loopback.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>

#include "server/http_listener.h"
#include "server/tls/test_pki.h"

namespace meridian::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Response = http::response<http::string_body>;

void IdentityHandler(const HttpRequest& r, HttpResponse& out) {
  out.content_type = "text/plain";
  out.body = "tls=" + std::to_string(r.tls) + " name=" + std::string(r.peer_certificate_name) +
             " region=" + std::string(r.peer_certificate_region) + " port=" + std::to_string(r.peer_port) +
             " " + std::string(r.method) + " " + std::string(r.path) + " body=" + std::string(r.body);
}

// A client SSL context from a Meridian client config (TLS 1.3, verifies the server).
std::unique_ptr<ssl::context> ClientContext(const tls::TlsClientConfig& config) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  Status st = tls::ConfigureClientContext(context->native_handle(), config);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return context;
}

class TlsClient {
 public:
  TlsClient(uint16_t port, ssl::context& context) : stream_(ioc_, context) {
    stream_.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    timeval tv{5, 0};  // never let a test hang on a read
    setsockopt(stream_.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  error_code Handshake() {
    error_code ec;
    stream_.handshake(ssl::stream_base::client, ec);
    return ec;
  }

  // One request and its response; an error when the connection fails on the way.
  error_code RoundTrip(const std::string& target, const std::string& body, Response& response, bool close = false) {
    http::request<http::string_body> request(http::verb::post, target, 11);
    request.set(http::field::host, "localhost");
    if (close) request.set(http::field::connection, "close");
    request.body() = body;
    request.prepare_payload();
    error_code ec;
    http::write(stream_, request, ec);
    if (ec) return ec;
    http::read(stream_, buffer_, response, ec);
    return ec;
  }

  SSL* native() { return stream_.native_handle(); }

  // What the next read finds once the response has been read.
  error_code ReadAfterResponse() {
    char c;
    error_code ec;
    stream_.read_some(net::buffer(&c, 1), ec);
    return ec;
  }

  void ShutdownTls() {
    error_code ignored;
    stream_.shutdown(ignored);
  }

 private:
  net::io_context ioc_;
  ssl::stream<tcp::socket> stream_;
  beast::flat_buffer buffer_;
};

class TlsListenerTest : public ::testing::Test {
 protected:
  std::unique_ptr<HttpListener> Start(tls::TlsServerConfig config, HttpHandler handler = IdentityHandler) {
    HttpListenerOptions options;
    options.threads = 2;
    options.tls = std::move(config);
    auto listener = std::make_unique<HttpListener>(std::move(options), std::move(handler));
    Status st = listener->Start();
    EXPECT_TRUE(st.ok()) << st.ToString();
    return listener;
  }

  tls::TestPki pki_;
};

TEST_F(TlsListenerTest, ServesHttpsOverTls13WithKeepAlive) {
  auto listener = Start(pki_.Server("us-east-1", /*mutual=*/false));
  auto context = ClientContext(pki_.Client(""));
  TlsClient client(listener->port(), *context);
  ASSERT_FALSE(client.Handshake());
  EXPECT_STREQ(SSL_get_version(client.native()), "TLSv1.3");
  std::set<std::string> bodies_ports;
  for (int i = 0; i < 3; ++i) {
    Response r;
    ASSERT_FALSE(client.RoundTrip("/x", "hello" + std::to_string(i), r));
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_TRUE(r.keep_alive());
    const std::string& body = r.body();
    EXPECT_NE(body.find("tls=1 name= region= "), std::string::npos) << body;  // no client certificate
    EXPECT_NE(body.find("POST /x body=hello" + std::to_string(i)), std::string::npos) << body;
    bodies_ports.insert(body.substr(body.find("port="), body.find(' ', body.find("port=")) - body.find("port=")));
  }
  EXPECT_EQ(bodies_ports.size(), 1u);
  EXPECT_EQ(listener->connection_count(), 1u);
}

// Bodies larger than one TLS record (16 KiB) both ways, on one connection.
TEST_F(TlsListenerTest, LargeRequestsAndResponses) {
  HttpListenerOptions options;
  options.threads = 2;
  options.max_body_bytes = 4 << 20;
  options.tls = pki_.Server("us-east-1", /*mutual=*/false);
  HttpListener listener(options, [](const HttpRequest& r, HttpResponse& out) {
    out.body.assign(r.body.rbegin(), r.body.rend());  // reversed: every byte must arrive in place
  });
  ASSERT_TRUE(listener.Start().ok());
  auto context = ClientContext(pki_.Client(""));
  TlsClient client(listener.port(), *context);
  ASSERT_FALSE(client.Handshake());
  for (size_t size : {16u * 1024 - 100, 16u * 1024 + 1, 100u * 1000, 3u * 1024 * 1024}) {
    SCOPED_TRACE(size);
    std::string body(size, '\0');
    for (size_t i = 0; i < size; ++i) body[i] = static_cast<char>('a' + (i * 7) % 26);
    Response r;
    ASSERT_FALSE(client.RoundTrip("/big", body, r));
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_EQ(r.body(), std::string(body.rbegin(), body.rend()));
  }
}

TEST_F(TlsListenerTest, MutualTlsPassesTheVerifiedClientIdentity) {
  auto listener = Start(pki_.Server("us-east-1", /*mutual=*/true));
  auto context = ClientContext(pki_.Client("us-west-2"));
  TlsClient client(listener->port(), *context);
  ASSERT_FALSE(client.Handshake());
  Response r;
  ASSERT_FALSE(client.RoundTrip("/_meridian/replication/v1", "{}", r));
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_NE(r.body().find("tls=1 name=us-west-2 region=us-west-2 "), std::string::npos) << r.body();
}

// Under TLS 1.3 the client finishes its handshake before the server has checked the client's
// certificate, so a refusal shows either in the handshake or as a failed first exchange. Either
// way the handler never runs.
void ExpectRefused(TlsClient& client) {
  if (client.Handshake()) return;
  Response r;
  EXPECT_TRUE(client.RoundTrip("/", "x", r)) << "answered " << r.result_int() << ": " << r.body();
}

// A resumed session (TLS 1.3 ticket) keeps the verified client identity.
TEST_F(TlsListenerTest, MutualTlsSessionResumptionKeepsTheIdentity) {
  auto listener = Start(pki_.Server("us-east-1", /*mutual=*/true));
  auto context = ClientContext(pki_.Client("us-west-2"));
  SSL_CTX_set_session_cache_mode(context->native_handle(), SSL_SESS_CACHE_CLIENT);
  SSL_SESSION* session = nullptr;
  {
    TlsClient first(listener->port(), *context);
    ASSERT_FALSE(first.Handshake());
    Response r;
    ASSERT_FALSE(first.RoundTrip("/", "", r));  // the tickets arrive after the handshake
    session = SSL_get1_session(first.native());
    ASSERT_NE(session, nullptr);
    EXPECT_EQ(SSL_SESSION_is_resumable(session), 1);
    first.ShutdownTls();  // OpenSSL marks the sessions of uncleanly closed connections unresumable
  }
  TlsClient second(listener->port(), *context);
  SSL_set_session(second.native(), session);
  SSL_SESSION_free(session);
  ASSERT_FALSE(second.Handshake());
  EXPECT_EQ(SSL_session_reused(second.native()), 1);
  Response r;
  ASSERT_FALSE(second.RoundTrip("/", "", r));
  EXPECT_NE(r.body().find("name=us-west-2 region=us-west-2"), std::string::npos) << r.body();
}

TEST_F(TlsListenerTest, MutualTlsRefusesClientsWithoutAValidCertificate) {
  std::atomic<int> handled{0};
  auto listener = Start(pki_.Server("us-east-1", /*mutual=*/true), [&](const HttpRequest& r, HttpResponse& out) {
    ++handled;
    IdentityHandler(r, out);
  });
  {  // No certificate at all.
    auto context = ClientContext(pki_.Client(""));
    TlsClient client(listener->port(), *context);
    ExpectRefused(client);
  }
  {  // A certificate naming a region, from another CA.
    tls::TlsClientConfig rogue = pki_.Client("");
    rogue.certificate_chain_file = pki_.Rogue("us-west-2").certificate;
    rogue.private_key_file = pki_.Rogue("us-west-2").private_key;
    auto context = ClientContext(rogue);
    TlsClient client(listener->port(), *context);
    ExpectRefused(client);
  }
  EXPECT_EQ(handled.load(), 0);
  {  // And a good client still gets in.
    auto context = ClientContext(pki_.Client("eu-west-1"));
    TlsClient client(listener->port(), *context);
    ASSERT_FALSE(client.Handshake());
    Response r;
    ASSERT_FALSE(client.RoundTrip("/", "x", r));
    EXPECT_NE(r.body().find("region=eu-west-1"), std::string::npos);
  }
  EXPECT_EQ(handled.load(), 1);
}

TEST_F(TlsListenerTest, OptionalClientCertificates) {
  tls::TlsServerConfig config = pki_.Server("us-east-1", /*mutual=*/false);
  config.client_ca_file = pki_.ca_file();  // verify when presented, but do not require
  auto listener = Start(config);
  {
    auto context = ClientContext(pki_.Client(""));
    TlsClient client(listener->port(), *context);
    ASSERT_FALSE(client.Handshake());
    Response r;
    ASSERT_FALSE(client.RoundTrip("/", "", r));
    EXPECT_NE(r.body().find("tls=1 name= region= "), std::string::npos) << r.body();
  }
  {
    auto context = ClientContext(pki_.Client("ap-south-1"));
    TlsClient client(listener->port(), *context);
    ASSERT_FALSE(client.Handshake());
    Response r;
    ASSERT_FALSE(client.RoundTrip("/", "", r));
    EXPECT_NE(r.body().find("name=ap-south-1 region=ap-south-1"), std::string::npos) << r.body();
  }
  {  // A presented certificate that does not verify is still refused.
    tls::TlsClientConfig rogue = pki_.Client("");
    rogue.certificate_chain_file = pki_.Rogue("ap-south-1").certificate;
    rogue.private_key_file = pki_.Rogue("ap-south-1").private_key;
    auto context = ClientContext(rogue);
    TlsClient client(listener->port(), *context);
    ExpectRefused(client);
  }
}

TEST_F(TlsListenerTest, RefusesTls12Handshakes) {
  auto listener = Start(pki_.Server("us-east-1", /*mutual=*/false));
  ssl::context tls12(ssl::context::tls_client);
  ASSERT_EQ(SSL_CTX_set_max_proto_version(tls12.native_handle(), TLS1_2_VERSION), 1);
  tls12.set_verify_mode(ssl::verify_none);
  TlsClient client(listener->port(), tls12);
  error_code ec = client.Handshake();
  EXPECT_TRUE(ec);
  // The same client allowed TLS 1.3 gets through: the refusal is about the version.
  ssl::context any(ssl::context::tls_client);
  any.set_verify_mode(ssl::verify_none);
  TlsClient modern(listener->port(), any);
  EXPECT_FALSE(modern.Handshake());
  EXPECT_STREQ(SSL_get_version(modern.native()), "TLSv1.3");
}

// The openssl command-line client, as an operator would check a deployment.
TEST_F(TlsListenerTest, OpensslSClientTls12IsRefusedTls13Accepted) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl binary";
  auto listener = Start(pki_.Server("us-east-1", /*mutual=*/false));
  auto run = [&](const std::string& version) {
    const std::string out = pki_.dir() + "/s_client" + version + ".txt";
    const std::string command = "timeout 20 openssl s_client -connect 127.0.0.1:" + std::to_string(listener->port()) +
                                " " + version + " -CAfile " + pki_.ca_file() + " </dev/null >" + out + " 2>&1";
    const int status = std::system(command.c_str());
    std::FILE* f = std::fopen(out.c_str(), "r");
    std::string text;
    char buf[4096];
    while (f && std::fgets(buf, sizeof buf, f)) text += buf;
    if (f) std::fclose(f);
    return std::make_pair(WEXITSTATUS(status), text);
  };
  auto [tls12_status, tls12_out] = run("-tls1_2");
  EXPECT_NE(tls12_status, 0) << tls12_out;
  EXPECT_NE(tls12_out.find("alert protocol version"), std::string::npos) << tls12_out;
  EXPECT_NE(tls12_out.find("Cipher is (NONE)"), std::string::npos) << tls12_out;  // no session
  auto [tls13_status, tls13_out] = run("-tls1_3");
  EXPECT_EQ(tls13_status, 0) << tls13_out;
  EXPECT_NE(tls13_out.find("TLSv1.3"), std::string::npos) << tls13_out;
  EXPECT_NE(tls13_out.find("Verify return code: 0 (ok)"), std::string::npos) << tls13_out;
}

TEST_F(TlsListenerTest, PlaintextHttpToTheTlsPortGetsNoHttpAnswer) {
  std::atomic<int> handled{0};
  auto listener = Start(pki_.Server("us-east-1", /*mutual=*/false), [&](const HttpRequest& r, HttpResponse& out) {
    ++handled;
    IdentityHandler(r, out);
  });
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), listener->port()));
  timeval tv{5, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string request = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  net::write(socket, net::buffer(request));
  std::string received;
  char buf[1024];
  error_code ec;
  while (!ec) {
    size_t n = socket.read_some(net::buffer(buf), ec);
    received.append(buf, n);
  }
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  EXPECT_EQ(received.find("HTTP/"), std::string::npos) << received;
  EXPECT_EQ(handled.load(), 0);
}

TEST_F(TlsListenerTest, BadTlsConfigurationFailsStart) {
  HttpListenerOptions options;
  options.tls = pki_.Server("us-east-1", false);
  options.tls->private_key_file = pki_.Region("us-west-2").private_key;  // not this certificate's key
  HttpListener mismatched(options, IdentityHandler);
  Status st = mismatched.Start();
  EXPECT_EQ(st.type(), "TlsConfigError");
  EXPECT_NE(st.message().find("does not match"), std::string::npos) << st.message();
  EXPECT_EQ(mismatched.port(), 0);

  options.tls = pki_.Server("us-east-1", false);
  options.tls->certificate_chain_file = pki_.dir() + "/missing.pem";
  HttpListener missing(options, IdentityHandler);
  EXPECT_EQ(missing.Start().type(), "TlsConfigError");
}

TEST_F(TlsListenerTest, StopClosesIdleAndHandshakingTlsConnections) {
  auto listener = Start(pki_.Server("us-east-1", /*mutual=*/false));
  auto context = ClientContext(pki_.Client(""));
  TlsClient idle(listener->port(), *context);
  ASSERT_FALSE(idle.Handshake());
  Response r;
  ASSERT_FALSE(idle.RoundTrip("/", "", r));
  net::io_context ioc;
  tcp::socket never_handshakes(ioc);  // connected, never sends a ClientHello
  never_handshakes.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), listener->port()));
  for (int i = 0; i < 100 && listener->connection_count() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(listener->connection_count(), 2u);
  const auto start = std::chrono::steady_clock::now();
  listener->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(listener->connection_count(), 0u);
}

TEST_F(TlsListenerTest, ConnectionCloseEndsTlsWithCloseNotify) {
  auto listener = Start(pki_.Server("us-east-1", /*mutual=*/false));
  auto context = ClientContext(pki_.Client(""));
  TlsClient client(listener->port(), *context);
  ASSERT_FALSE(client.Handshake());
  Response r;
  ASSERT_FALSE(client.RoundTrip("/bye", "", r, /*close=*/true));
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_FALSE(r.keep_alive());
  // Asio reports a peer's close_notify as eof; a TCP close without it as stream_truncated.
  EXPECT_EQ(client.ReadAfterResponse(), net::error::eof);
  client.ShutdownTls();
  for (int i = 0; i < 100 && listener->connection_count() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(listener->connection_count(), 0u);
}

}  // namespace
}  // namespace meridian::server
