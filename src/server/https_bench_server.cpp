// A trivial HTTPS server for benchmarking the listener's TLS path against nginx (bench/tls/run.sh):
// every request gets the same 130-byte body, as the nginx baseline serves.
//
//   https_bench_server --pki-dir DIR [--port P] [--threads N] [--async] [--plain]
//
// Creates a deployment CA and a certificate for region "bench" (DNS localhost, IP 127.0.0.1) in
// DIR when missing, listens on 127.0.0.1:P (0: ephemeral), prints "ready <port>" and serves
// until SIGINT or SIGTERM. --async answers through AsyncHttpHandler (Send from the I/O thread);
// --plain serves HTTP instead of HTTPS.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "server/http_listener.h"
#include "server/tls/certificates.h"

namespace {

const std::string kBody = std::string(129, 'x') + "\n";  // 130 bytes

int Usage() {
  std::cerr << "usage: https_bench_server --pki-dir DIR [--port P] [--threads N] [--async] [--plain]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace meridian;
  std::string pki_dir;
  server::HttpListenerOptions options;
  bool async = false, plain = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "--pki-dir" && i + 1 < argc) {
      pki_dir = value();
    } else if (arg == "--port" && i + 1 < argc) {
      options.port = static_cast<uint16_t>(std::atoi(value()));
    } else if (arg == "--threads" && i + 1 < argc) {
      options.threads = std::atoi(value());
    } else if (arg == "--async") {
      async = true;
    } else if (arg == "--plain") {
      plain = true;
    } else {
      return Usage();
    }
  }
  if (pki_dir.empty()) return Usage();

  const tls::CredentialFiles ca = tls::CaFilesIn(pki_dir);
  if (::access(ca.certificate.c_str(), R_OK) != 0) {
    if (auto made = tls::InitCaDirectory(pki_dir, {}); !made.ok()) {
      std::cerr << made.status().ToString() << "\n";
      return 1;
    }
  }
  tls::RegionCertificateOptions region;
  region.region = "bench";
  region.dns_names = {"localhost"};
  region.ip_addresses = {"127.0.0.1"};
  auto files = tls::IssueRegionCertificateFiles(pki_dir, region, pki_dir);
  if (!files.ok()) {
    std::cerr << files.status().ToString() << "\n";
    return 1;
  }
  if (!plain) options.tls = tls::TlsServerConfig{files->certificate, files->private_key, "", false};

  // Block the signals before the listener's threads start, so that only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto respond = [](server::HttpResponse& out) {
    out.content_type = "text/plain";
    out.body = kBody;
  };
  std::unique_ptr<server::HttpListener> listener;
  if (async) {
    listener = std::make_unique<server::HttpListener>(
        options, server::AsyncHttpHandler([respond](const server::HttpRequest&, server::HttpResponder responder) {
          server::HttpResponse out;
          respond(out);
          responder.Send(std::move(out));
        }));
  } else {
    listener = std::make_unique<server::HttpListener>(
        options, server::HttpHandler([respond](const server::HttpRequest&, server::HttpResponse& out) { respond(out); }));
  }
  if (Status st = listener->Start(); !st.ok()) {
    std::cerr << st.ToString() << "\n";
    return 1;
  }
  std::cout << "ready " << listener->port() << " cert " << files->certificate << " key " << files->private_key
            << std::endl;
  int signal = 0;
  sigwait(&signals, &signal);
  listener->Stop();
  return 0;
}
