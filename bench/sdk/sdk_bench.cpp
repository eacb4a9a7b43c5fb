// Meridian SDK throughput benchmark (single process, single thread of the caller; suite 0x0578
// may use a second thread for signature hashing). Prints one JSON object per case on stdout:
//   {"case":"bulk_encrypt","suite":"0478","mb_per_s":...,"mb_per_cpu_s":...}
//   {"case":"small_encrypt","suite":"0478","msgs_per_s":...,"msgs_per_cpu_s":...}
// *_per_s is wall-clock throughput; *_per_cpu_s divides by the CPU time the process used (all its
// threads), which is what "per core" means and stays meaningful when other processes share the
// machine.
// Usage: sdk_bench [--size-mib 64] [--frame 4096] [--seconds 2]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sdk/client.h"
#include "sdk/default_cmm.h"
#include "sdk/raw_aes_keyring.h"

using namespace meridian;
using namespace meridian::sdk;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void Die(const Status& st) {
  std::fprintf(stderr, "sdk_bench: %s\n", st.ToString().c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  size_t size_mib = 64;
  uint32_t frame = 4096;
  double seconds = 2.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--size-mib") size_mib = std::strtoul(argv[i + 1], nullptr, 10);
    else if (a == "--frame") frame = static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    else if (a == "--seconds") seconds = std::strtod(argv[i + 1], nullptr);
  }
  Bytes key(32, 0x11);
  auto keyring = RawAesKeyring::Create("bench", "key", key).value();
  auto cmm = std::make_shared<DefaultCmm>(keyring);
  Bytes big(size_mib << 20);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 131);

  for (uint16_t id : {0x0478, 0x0578}) {
    EncryptOptions eo;
    eo.suite = FindSuite(id);
    eo.frame_length = frame;
    DecryptOptions dopt;
    // Warm up, then take the best of 3 runs.
    double best_enc = 1e9, best_dec = 1e9, best_enc_cpu = 1e9, best_dec_cpu = 1e9;
    // Output buffers are reused across runs (as a service encrypting many objects would).
    Bytes ct, pt;
    for (int run = 0; run < 4; ++run) {
      auto t0 = Clock::now();
      double c0 = CpuSeconds();
      Status st = EncryptInto(*cmm, big, eo, ct);
      double c1 = CpuSeconds();
      auto t1 = Clock::now();
      if (!st.ok()) Die(st);
      if (run > 0) best_enc = std::min(best_enc, Seconds(t0, t1));
      if (run > 0) best_enc_cpu = std::min(best_enc_cpu, c1 - c0);
      auto t2 = Clock::now();
      double c2 = CpuSeconds();
      st = DecryptInto(cmm, ct, dopt, pt);
      double c3 = CpuSeconds();
      auto t3 = Clock::now();
      if (!st.ok()) Die(st);
      if (pt != big) Die(Status("Bench", "round trip mismatch"));
      if (run > 0) best_dec = std::min(best_dec, Seconds(t2, t3));
      if (run > 0) best_dec_cpu = std::min(best_dec_cpu, c3 - c2);
    }
    double mb = static_cast<double>(big.size()) / 1e6;
    std::printf(
        "{\"case\":\"bulk_encrypt\",\"suite\":\"%04x\",\"frame\":%u,\"mib\":%zu,\"mb_per_s\":%.1f,\"mb_per_cpu_s\":%.1f}\n",
        id, frame, size_mib, mb / best_enc, mb / best_enc_cpu);
    std::printf(
        "{\"case\":\"bulk_decrypt\",\"suite\":\"%04x\",\"frame\":%u,\"mib\":%zu,\"mb_per_s\":%.1f,\"mb_per_cpu_s\":%.1f}\n",
        id, frame, size_mib, mb / best_dec, mb / best_dec_cpu);
    std::fflush(stdout);
  }

  Bytes small(1024, 0x5a);
  for (uint16_t id : {0x0478, 0x0578}) {
    EncryptOptions eo;
    eo.suite = FindSuite(id);
    eo.frame_length = frame;
    DecryptOptions dopt;
    double budget = id == 0x0578 ? seconds / 2 : seconds;
    size_t n = 0;
    Bytes ct, pt;
    double c0 = CpuSeconds();
    auto t0 = Clock::now();
    auto deadline = t0 + std::chrono::duration<double>(budget);
    while (Clock::now() < deadline) {
      for (int i = 0; i < 64; ++i) {
        Status st = EncryptInto(*cmm, small, eo, ct);
        if (!st.ok()) Die(st);
        ++n;
      }
    }
    double enc_rate = static_cast<double>(n) / Seconds(t0, Clock::now());
    double enc_cpu_rate = static_cast<double>(n) / (CpuSeconds() - c0);
    n = 0;
    c0 = CpuSeconds();
    t0 = Clock::now();
    deadline = t0 + std::chrono::duration<double>(budget);
    while (Clock::now() < deadline) {
      for (int i = 0; i < 64; ++i) {
        Status st = DecryptInto(cmm, ct, dopt, pt);
        if (!st.ok()) Die(st);
        ++n;
      }
    }
    double dec_rate = static_cast<double>(n) / Seconds(t0, Clock::now());
    double dec_cpu_rate = static_cast<double>(n) / (CpuSeconds() - c0);
    std::printf("{\"case\":\"small_encrypt\",\"suite\":\"%04x\",\"bytes\":1024,\"msgs_per_s\":%.0f,\"msgs_per_cpu_s\":%.0f}\n",
                id, enc_rate, enc_cpu_rate);
    std::printf("{\"case\":\"small_decrypt\",\"suite\":\"%04x\",\"bytes\":1024,\"msgs_per_s\":%.0f,\"msgs_per_cpu_s\":%.0f}\n",
                id, dec_rate, dec_cpu_rate);
    std::fflush(stdout);
  }
  return 0;
}
