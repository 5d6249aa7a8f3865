// Write-ahead log files: a sequence of records, each [u32 length][u32 CRC-32]
// [payload]. A record is durable once Append returns (the file is
// fdatasync'ed when `sync` is set). A torn or corrupt tail — a crash in the
// middle of an append — ends the readable log; everything before it is intact.
#ifndef HOTPATH_FEATURES_INTERNAL_WAL_H_
#define HOTPATH_FEATURES_INTERNAL_WAL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace hotpath::features::internal {

uint32_t Crc32(std::string_view bytes);

// Appends records to one log file. Not thread-safe: the owner serializes.
class WalWriter {
 public:
  // Opens (creating or appending to) `path`. INTERNAL on I/O failure.
  static Result<std::unique_ptr<WalWriter>> Open(const std::string& path, bool sync);
  ~WalWriter();
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  // Writes one record and, with `sync`, waits until it is on disk.
  // UNAVAILABLE when the write or sync fails; the record is then not durable
  // and is cut off again (when that fails too, every later Append fails).
  Status Append(std::string_view payload);
  // Appends the framed record of `payload` to `*out`, for AppendFramed.
  static void Frame(std::string_view payload, std::string* out);
  // As Append, for records already framed (one or more, back to back).
  Status AppendFramed(std::string_view records);
  uint64_t bytes() const { return bytes_; }

 private:
  WalWriter(int fd, bool sync, uint64_t bytes) : fd_(fd), sync_(sync), bytes_(bytes) {}
  int fd_;
  bool sync_;
  uint64_t bytes_;  // length of the intact records
  bool broken_ = false;
};

// Calls `fn` for each intact record of `path` in order. When the file ends in
// a torn record it is truncated to its intact prefix (if `repair_tail`) or
// DATA_LOSS is returned. NOT_FOUND when the file is missing.
Status ReadWal(const std::string& path, bool repair_tail,
               const std::function<Status(std::string_view)>& fn);

// fsyncs a directory so that renames and creations in it are durable.
Status SyncDir(const std::string& dir);

}  // namespace hotpath::features::internal

#endif  // HOTPATH_FEATURES_INTERNAL_WAL_H_
