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
  const std::string tmp = tmp_name(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    g_has_pending = false;
    throw std::runtime_error(path + ": cannot create " + tmp + ": " + os_error(err));
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      ::close(fd);
      fail(path, tmp, "write failed after " + std::to_string(done) + " of " + std::to_string(bytes.size()) + " bytes",
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

uint32_t crc32c(const void* data, size_t len, uint32_t crc) {
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

}  // namespace sharelab::arch
