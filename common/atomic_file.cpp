// fsync + rename commits (see atomic_file.h), and CRC-32C.
#include "common/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "common/errors.h"

namespace sharelab::arch {

namespace {

// --- the temporary file being written (for remove_pending_tmp) ---------------------------------
char g_pending[4096];
std::atomic<bool> g_has_pending{false};

void remember_tmp(const std::string& tmp) {
  g_has_pending = false;
  if (tmp.size() >= sizeof(g_pending)) return;
  std::memcpy(g_pending, tmp.c_str(), tmp.size() + 1);
  g_has_pending = true;
}

std::string os_error(int err) { return std::string(std::strerror(err)); }

[[noreturn]] void fail(const std::string& path, const std::string& tmp, const std::string& what, int err) {
  ::unlink(tmp.c_str());
  g_has_pending = false;
  throw std::runtime_error(path + ": " + what + ": " + os_error(err) + " (nothing was written under this name)");
}

std::string parent_dir(const std::string& path) {
  const auto pos = path.find_last_of('/');
  return pos == std::string::npos ? "." : (pos == 0 ? "/" : path.substr(0, pos));
}

// The folder's entry for the renamed file, made durable. Some file systems cannot fsync a folder
// (EINVAL); that is not an error of the data.
void fsync_dir(const std::string& path) {
  const int fd = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  const int rc = ::fsync(fd), err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL && err != ENOTSUP && err != EROFS)
    throw std::runtime_error(path + ": fsync of its folder failed: " + os_error(err));
}

}  // namespace

void commit_file(const std::string& tmp, const std::string& path) {
  const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, tmp, "cannot reopen the temporary file " + tmp, errno);
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    fail(path, tmp, "fsync of " + tmp + " failed", err);
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail(path, tmp, "cannot rename " + tmp + " into place", errno);
  g_has_pending = false;
  fsync_dir(path);
}

std::string tmp_name(const std::string& path) {
  std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  remember_tmp(tmp);
  return tmp;
}

void remove_pending_tmp() {
  if (g_has_pending) ::unlink(g_pending);
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  write_file_atomic(path, bytes.data(), bytes.size());
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  const char* bytes = static_cast<const char*>(data);
  const std::string tmp = tmp_name(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    g_has_pending = false;
    throw std::runtime_error(path + ": cannot create " + tmp + ": " + os_error(err));
  }
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, bytes + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      ::close(fd);
      fail(path, tmp, "write failed after " + std::to_string(done) + " of " + std::to_string(size) + " bytes",
           err);
    }
    done += size_t(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    fail(path, tmp, "fsync failed", err);
  }
  if (::close(fd) != 0) fail(path, tmp, "close failed", errno);
  commit_file(tmp, path);
}

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& fill) {
  const std::string tmp = tmp_name(path);
  try {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw ConfigError(path + ": cannot create (" + tmp + "): " + os_error(errno));
    errno = 0;
    fill(out);
    out.flush();
    if (!out) throw std::runtime_error(path + ": write failed: " + (errno ? os_error(errno) : "stream error") + " (disk full?)");
    out.close();
    if (!out) throw std::runtime_error(path + ": close failed: " + (errno ? os_error(errno) : "stream error"));
    commit_file(tmp, path);
  } catch (...) {
    std::remove(tmp.c_str());
    g_has_pending = false;
    throw;
  }
}

// --- CRC-32C ----------------------------------------------------------------------------------

namespace {

struct Crc32cTables {
  uint32_t t[8][256];
  Crc32cTables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  }
};

}  // namespace

uint32_t crc32c_portable(const void* data, size_t len, uint32_t crc) {
  static const Crc32cTables tab;
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  while (len > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = (c >> 8) ^ tab.t[0][(c ^ *p++) & 0xFF];
    --len;
  }
  while (len >= 8) {  // little-endian hosts (x86-64, aarch64): the 8 bytes as two words
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;
    c = tab.t[7][lo & 0xFF] ^ tab.t[6][(lo >> 8) & 0xFF] ^ tab.t[5][(lo >> 16) & 0xFF] ^ tab.t[4][lo >> 24] ^
        tab.t[3][hi & 0xFF] ^ tab.t[2][(hi >> 8) & 0xFF] ^ tab.t[1][(hi >> 16) & 0xFF] ^ tab.t[0][hi >> 24];
    p += 8;
    len -= 8;
  }
  while (len-- > 0) c = (c >> 8) ^ tab.t[0][(c ^ *p++) & 0xFF];
  return ~c;
}

namespace {

// GF(2) polynomial arithmetic modulo the (reflected) CRC-32C polynomial, as zlib's crc32_combine:
// a * b mod P, and x^(8 n) mod P, the operator that appends n zero bytes to a CRC register.
constexpr uint32_t kPoly = 0x82F63B78u;

uint32_t mult_mod_p(uint32_t a, uint32_t b) {
  uint32_t m = 1u << 31, p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;
  }
  return p;
}

struct PowersOfX {
  uint32_t x2n[32];  // x^(2^k) mod P
  PowersOfX() {
    uint32_t p = 1u << 30;  // x^1
    x2n[0] = p;
    for (int k = 1; k < 32; ++k) x2n[k] = p = mult_mod_p(p, p);
  }
};

// x^(8 n) mod P: multiplying a register by it appends n zero bytes.
uint32_t zeros_operator(uint64_t n) {
  static const PowersOfX pw;
  uint32_t p = 1u << 31;  // x^0
  unsigned k = 3;         // 8 n = n << 3
  for (; n; n >>= 1, ++k)
    if (n & 1) p = mult_mod_p(pw.x2n[k & 31], p);
  return p;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHARELAB_CRC32C_SSE42 1

constexpr size_t kLane = 8192;  // bytes per stream in a block of three

__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(const void* data, size_t len, uint32_t crc) {
  static const uint32_t shift_lane = zeros_operator(kLane);
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t c = ~crc;
  while (len > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = __builtin_ia32_crc32qi(uint32_t(c), *p++);
    --len;
  }
  // Three independent streams hide the instruction's 3-cycle latency; their registers combine as
  // c = shift(shift(c0) ^ c1) ^ c2 (each shift: kLane zero bytes appended).
  while (len >= 3 * kLane) {
    uint64_t c0 = c, c1 = 0, c2 = 0;
    const uint8_t* end = p + kLane;
    for (; p < end; p += 8) {
      uint64_t w0, w1, w2;
      std::memcpy(&w0, p, 8);
      std::memcpy(&w1, p + kLane, 8);
      std::memcpy(&w2, p + 2 * kLane, 8);
      c0 = __builtin_ia32_crc32di(c0, w0);
      c1 = __builtin_ia32_crc32di(c1, w1);
      c2 = __builtin_ia32_crc32di(c2, w2);
    }
    c = mult_mod_p(shift_lane, mult_mod_p(shift_lane, uint32_t(c0)) ^ uint32_t(c1)) ^ uint32_t(c2);
    p += 2 * kLane;
    len -= 3 * kLane;
  }
  for (; len >= 8; p += 8, len -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c = __builtin_ia32_crc32di(c, w);
  }
  while (len-- > 0) c = __builtin_ia32_crc32qi(uint32_t(c), *p++);
  return ~uint32_t(c);
}

bool have_sse42() {
  static const bool yes = __builtin_cpu_supports("sse4.2");
  return yes;
}
#endif

}  // namespace

uint32_t crc32c(const void* data, size_t len, uint32_t crc) {
#ifdef SHARELAB_CRC32C_SSE42
  if (have_sse42()) return crc32c_sse42(data, len, crc);
#endif
  return crc32c_portable(data, len, crc);
}

uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b) {
  return mult_mod_p(zeros_operator(len_b), crc_a) ^ crc_b;
}

}  // namespace sharelab::arch
