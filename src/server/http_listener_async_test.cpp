// HttpListener with an AsyncHttpHandler: responses sent later, from other threads.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "server/http_listener.h"
#include "server/http_test_client.h"

namespace meridian::server {
namespace {

using test_support::Client;
using test_support::Get;
using test_support::Post;
using test_support::Response;
using Clock = std::chrono::steady_clock;
namespace http = test_support::http;
namespace net = test_support::net;

// Threads that run jobs in the order given, like an audit writer completing group commits.
class Workers {
 public:
  explicit Workers(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
  }
  ~Workers() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void Post(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

 private:
  void Run() {
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// std::function needs copyable callables; HttpResponder is move-only.
using SharedResponder = std::shared_ptr<HttpResponder>;
SharedResponder Share(HttpResponder r) { return std::make_shared<HttpResponder>(std::move(r)); }

std::string Describe(const HttpRequest& r) {
  return std::string(r.method) + " " + std::string(r.path) + " body=" + std::string(r.body) +
         " host=" + std::string(r.Header("host").value_or("-"));
}

HttpResponse Text(std::string body) {
  HttpResponse response;
  response.content_type = "text/plain";
  response.body = std::move(body);
  return response;
}

std::unique_ptr<HttpListener> StartAsync(AsyncHttpHandler handler, HttpListenerOptions options = {}) {
  options.threads = 2;
  auto listener = std::make_unique<HttpListener>(std::move(options), std::move(handler));
  Status st = listener->Start();
  EXPECT_TRUE(st.ok()) << st.ToString();
  return listener;
}

TEST(AsyncHttpListener, SendsFromAnotherThreadAfterADelay) {
  Workers workers(1);
  std::atomic<std::thread::id> handler_thread, sender_thread;
  auto listener = StartAsync([&](const HttpRequest& request, HttpResponder responder) {
    handler_thread = std::this_thread::get_id();
    // The request views are used after the handler returned, on another thread.
    workers.Post([&, request, responder = Share(std::move(responder))] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      sender_thread = std::this_thread::get_id();
      responder->Send(Text("late " + Describe(request)));
      EXPECT_FALSE(responder->pending());
    });
  });
  Client client(listener->port());
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    client.Send(Post("/item", "payload-" + std::to_string(i)));
    Response r = client.Read();
    EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(95));
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_TRUE(r.keep_alive());
    EXPECT_EQ(r.body(), "late POST /item body=payload-" + std::to_string(i) + " host=localhost");
  }
  EXPECT_NE(handler_thread.load(), sender_thread.load());
  EXPECT_EQ(listener->connection_count(), 1u);
}

TEST(AsyncHttpListener, PipelinedRequestsWaitForTheEarlierResponse) {
  Workers workers(1);
  std::mutex mu;
  std::vector<std::string> events;
  auto record = [&](std::string e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(std::move(e));
  };
  auto listener = StartAsync([&](const HttpRequest& request, HttpResponder responder) {
    record("handle " + std::string(request.path));
    if (request.path == "/slow") {
      workers.Post([&, request, responder = Share(std::move(responder))] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        record("send /slow");
        responder->Send(Text(Describe(request)));
      });
      return;
    }
    responder.Send(Text(Describe(request)));  // answered inline, on the I/O thread
  });
  Client client(listener->port());
  client.Send(
      "POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nslow"
      "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\na"
      "GET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(client.Read().body(), "POST /slow body=slow host=a");
  EXPECT_EQ(client.Read().body(), "POST /a body=a host=a");
  Response last = client.Read();
  EXPECT_EQ(last.body(), "GET /b body= host=a");
  EXPECT_FALSE(last.keep_alive());
  EXPECT_TRUE(client.ClosedWithin(std::chrono::seconds(2)));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(events, (std::vector<std::string>{"handle /slow", "send /slow", "handle /a", "handle /b"}));
}

TEST(AsyncHttpListener, ResponderDestroyedWithoutSendAnswers500) {
  Workers workers(1);
  auto listener = StartAsync([&](const HttpRequest& request, HttpResponder responder) {
    if (request.path == "/drop") return;  // destroyed as the handler returns
    if (request.path == "/throw") throw std::runtime_error("boom");
    if (request.path == "/drop-later") {
      workers.Post([responder = Share(std::move(responder))]() mutable {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        responder.reset();  // the last owner: destroyed on this thread
      });
      return;
    }
    responder.Send(Text("ok"));
  });
  for (const char* path : {"/drop", "/throw", "/drop-later"}) {
    SCOPED_TRACE(path);
    Client client(listener->port());
    client.Send(Get(path));
    Response r = client.Read();
    EXPECT_EQ(r.result_int(), 500);
    EXPECT_EQ(r.body(), "{\"__type\":\"InternalFailure\",\"message\":\"The server failed to process the request.\"}");
    EXPECT_FALSE(r.keep_alive());
    EXPECT_TRUE(client.ClosedWithin(std::chrono::seconds(2)));
  }
  Client client(listener->port());
  client.Send(Get("/fine"));
  EXPECT_EQ(client.Read().body(), "ok");
}

TEST(AsyncHttpListener, OnlyTheFirstSendCounts) {
  auto listener = StartAsync([&](const HttpRequest& request, HttpResponder responder) {
    EXPECT_TRUE(responder.pending());
    responder.Send(Text("first " + std::string(request.path)));
    EXPECT_FALSE(responder.pending());
    responder.Send(Text("second"));  // ignored
    HttpResponder moved = std::move(responder);
    moved.Send(Text("third"));  // ignored: nothing left to answer
  });
  Client client(listener->port());
  for (int i = 0; i < 3; ++i) {
    client.Send(Get("/" + std::to_string(i)));
    Response r = client.Read();
    EXPECT_EQ(r.body(), "first /" + std::to_string(i));
    EXPECT_TRUE(r.keep_alive());
  }
}

TEST(AsyncHttpListener, StopGivesUpOnAPendingResponderAfterTheDrainTimeout) {
  std::mutex mu;
  std::vector<std::pair<HttpRequest, SharedResponder>> parked;
  std::promise<void> arrived;
  HttpListenerOptions options;
  options.drain_timeout = std::chrono::milliseconds(300);
  auto listener = StartAsync(
      [&](const HttpRequest& request, HttpResponder responder) {
        std::lock_guard<std::mutex> lock(mu);
        parked.emplace_back(request, Share(std::move(responder)));
        arrived.set_value();
      },
      options);
  Client client(listener->port());
  client.Send(Post("/never", "parked body"));
  arrived.get_future().wait();

  const auto start = Clock::now();
  listener->Stop();
  const auto took = Clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(3));
  EXPECT_TRUE(client.ClosedWithin(std::chrono::seconds(1)));
  EXPECT_EQ(listener->connection_count(), 0u);

  // The request stays readable until its responder is done, even with the listener gone.
  listener.reset();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_EQ(Describe(parked[0].first), "POST /never body=parked body host=localhost");
  parked[0].second->Send(Text("too late"));  // a no-op, not a crash
  parked.clear();
}

TEST(AsyncHttpListener, StopWaitsForAResponderThatAnswersInTime) {
  std::promise<SharedResponder> parked;
  auto listener = StartAsync([&](const HttpRequest&, HttpResponder responder) {
    parked.set_value(Share(std::move(responder)));
  });
  Client client(listener->port());
  client.Send(Get("/pending"));
  SharedResponder responder = parked.get_future().get();
  auto stopped = std::async(std::launch::async, [&] { listener->Stop(); });
  EXPECT_EQ(stopped.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  responder->Send(Text("made it"));
  Response r = client.Read();
  EXPECT_EQ(r.body(), "made it");
  EXPECT_FALSE(r.keep_alive());  // the server is going away
  EXPECT_EQ(stopped.wait_for(std::chrono::seconds(2)), std::future_status::ready);
}

TEST(AsyncHttpListener, ManyClientsAnsweredByAWorkerPool) {
  Workers workers(3);
  std::atomic<int> handled{0};
  auto listener = StartAsync([&](const HttpRequest& request, HttpResponder responder) {
    ++handled;
    workers.Post([request, responder = Share(std::move(responder))] { responder->Send(Text(std::string(request.body))); });
  });
  constexpr int kClients = 8, kRequests = 200;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      Client client(listener->port());
      for (int i = 0; i < kRequests; ++i) {
        // Two pipelined requests at a time: each connection still answers in order.
        const std::string a = std::to_string(c) + ":" + std::to_string(i) + "a";
        const std::string b = std::to_string(c) + ":" + std::to_string(i) + "b";
        client.Send(Post("/", a));
        client.Send(Post("/", b));
        Response ra = client.Read();
        Response rb = client.Read();
        if (ra.body() == a && rb.body() == b) ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), kClients * kRequests);
  EXPECT_EQ(handled.load(), 2 * kClients * kRequests);
}

}  // namespace
}  // namespace meridian::server
