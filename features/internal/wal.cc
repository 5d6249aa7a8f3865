#include "features/internal/wal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace hotpath::features::internal {
namespace {

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}

Status WriteAll(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      return UnavailableError(std::string("write-ahead log: write failed: ") +
                              std::strerror(errno));
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return OkStatus();
}

}  // namespace

uint32_t Crc32(std::string_view bytes) {
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : bytes) c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

Result<std::unique_ptr<WalWriter>> WalWriter::Open(const std::string& path, bool sync) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    return InternalError("write-ahead log: cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  ::fstat(fd, &st);
  return std::unique_ptr<WalWriter>(new WalWriter(fd, sync, static_cast<uint64_t>(st.st_size)));
}

WalWriter::~WalWriter() { ::close(fd_); }

void WalWriter::Frame(std::string_view payload, std::string* out) {
  const uint32_t len = static_cast<uint32_t>(payload.size());
  const uint32_t crc = Crc32(payload);
  char header[8];
  std::memcpy(header, &len, 4);
  std::memcpy(header + 4, &crc, 4);
  out->append(header, sizeof header);
  out->append(payload);
}

Status WalWriter::Append(std::string_view payload) {
  std::string record;
  Frame(payload, &record);
  return AppendFramed(record);
}

Status WalWriter::AppendFramed(std::string_view records) {
  if (broken_) return UnavailableError("write-ahead log: unusable after an earlier failed write");
  Status st = WriteAll(fd_, records.data(), records.size());
  if (st.ok() && sync_ && ::fdatasync(fd_) != 0) {
    st =
        UnavailableError(std::string("write-ahead log: fdatasync failed: ") + std::strerror(errno));
  }
  if (!st.ok()) {
    // Cut the partial record off, so that later records do not follow a torn
    // one (recovery stops at the first bad record); if that fails, stop.
    broken_ = ::ftruncate(fd_, static_cast<off_t>(bytes_)) != 0;
    return st;
  }
  bytes_ += records.size();
  return OkStatus();
}

Status ReadWal(const std::string& path, bool repair_tail,
               const std::function<Status(std::string_view)>& fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("write-ahead log: cannot open " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string data = buf.str();
  std::size_t pos = 0;
  while (pos + 8 <= data.size()) {
    uint32_t len, crc;
    std::memcpy(&len, data.data() + pos, 4);
    std::memcpy(&crc, data.data() + pos + 4, 4);
    if (len > data.size() - pos - 8) break;
    std::string_view payload(data.data() + pos + 8, len);
    if (Crc32(payload) != crc) break;
    RETURN_IF_ERROR(fn(payload));
    pos += 8 + len;
  }
  if (pos == data.size()) return OkStatus();
  if (!repair_tail) {
    return DataLossError("write-ahead log " + path + ": corrupt record at byte " +
                         std::to_string(pos));
  }
  if (::truncate(path.c_str(), static_cast<off_t>(pos)) != 0) {
    return InternalError("write-ahead log: cannot truncate torn tail of " + path);
  }
  return OkStatus();
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return InternalError("cannot open directory " + dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return InternalError("cannot fsync directory " + dir);
  return OkStatus();
}

}  // namespace hotpath::features::internal
