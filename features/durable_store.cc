#include "features/durable_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "features/internal/codec.h"
#include "features/internal/wal.h"

namespace hotpath::features {
namespace {

namespace fs = std::filesystem;
constexpr char kSnapshotName[] = "snapshot";

std::string EncodeEvents(std::span<const Event> events) {
  std::string out;
  internal::ByteWriter w(&out);
  w.Put<uint32_t>(static_cast<uint32_t>(events.size()));
  for (const Event& ev : events) {
    w.Put<int32_t>(ev.source);
    w.PutString(ev.entity_key);
    w.Put(ev.ts_ms);
    w.Put<uint32_t>(static_cast<uint32_t>(ev.numbers.size()));
    for (double d : ev.numbers) w.Put(d);
    w.Put<uint32_t>(static_cast<uint32_t>(ev.keyed.size()));
    for (uint64_t k : ev.keyed) w.Put(k);
  }
  return out;
}

Result<std::vector<Event>> DecodeEvents(std::string_view bytes) {
  internal::ByteReader r(bytes);
  uint32_t n = r.Get<uint32_t>();
  if (!r.CountFits(n, 24)) return DataLossError("write-ahead log: bad batch header");
  std::vector<Event> events(n);
  for (Event& ev : events) {
    ev.source = r.Get<int32_t>();
    ev.entity_key = std::string(r.GetString());
    ev.ts_ms = r.Get<int64_t>();
    uint32_t nn = r.Get<uint32_t>();
    if (!r.CountFits(nn, 8)) break;
    ev.numbers.resize(nn);
    for (double& d : ev.numbers) d = r.Get<double>();
    uint32_t nk = r.Get<uint32_t>();
    if (!r.CountFits(nk, 8)) break;
    ev.keyed.resize(nk);
    for (uint64_t& k : ev.keyed) k = r.Get<uint64_t>();
  }
  if (!r.ok() || !r.done()) return DataLossError("write-ahead log: corrupt batch");
  return events;
}

// Log files in `dir` by sequence number, ascending.
std::vector<uint64_t> ListWals(const std::string& dir) {
  std::vector<uint64_t> seqs;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.size() > 8 && name.rfind("wal-", 0) == 0 && name.ends_with(".log")) {
      seqs.push_back(std::stoull(name.substr(4, name.size() - 8)));
    }
  }
  std::sort(seqs.begin(), seqs.end());
  return seqs;
}

Status FsyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return InternalError("cannot open " + path);
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? OkStatus() : InternalError("cannot fsync " + path);
}

}  // namespace

Result<std::unique_ptr<DurableFeatureStore>> DurableFeatureStore::Open(const Options& options) {
  if (options.dir.empty()) return InvalidArgumentError("DurableFeatureStore: dir is required");
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec)
    return InternalError("DurableFeatureStore: cannot create " + options.dir + ": " + ec.message());
  ASSIGN_OR_RETURN(std::unique_ptr<FeatureStore> store, FeatureStore::Create(options.store));
  std::unique_ptr<DurableFeatureStore> durable(new DurableFeatureStore(options, std::move(store)));
  RETURN_IF_ERROR(durable->Recover());
  return durable;
}

DurableFeatureStore::DurableFeatureStore(const Options& options,
                                         std::unique_ptr<FeatureStore> store)
    : options_(options), store_(std::move(store)) {}

DurableFeatureStore::~DurableFeatureStore() { (void)Flush(); }

std::string DurableFeatureStore::WalPath(uint64_t seq) const {
  return options_.dir + "/wal-" + std::to_string(seq) + ".log";
}

Status DurableFeatureStore::Recover() {
  MutexLock log_lock(&log_mu_);
  MutexLock lock(&mu_);
  uint64_t first_seq = 0;
  const std::string snap = options_.dir + "/" + kSnapshotName;
  if (fs::exists(snap)) {
    std::ifstream in(snap, std::ios::binary);
    if (!in.read(reinterpret_cast<char*>(&first_seq), sizeof first_seq)) {
      return DataLossError("snapshot " + snap + ": truncated header");
    }
    Status st = store_->LoadSnapshot(in);
    if (!st.ok()) return DataLossError(snap + ": " + st.message());
  }
  std::vector<uint64_t> seqs = ListWals(options_.dir);
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    if (seqs[i] < first_seq) {
      fs::remove(WalPath(seqs[i]));
      continue;
    }
    bool last = i + 1 == seqs.size();
    RETURN_IF_ERROR(internal::ReadWal(WalPath(seqs[i]), last, [&](std::string_view rec) {
      ASSIGN_OR_RETURN(std::vector<Event> events, DecodeEvents(rec));
      store_->Reapply(events);
      return OkStatus();
    }));
  }
  wal_seq_ = std::max(first_seq, seqs.empty() ? 0 : seqs.back() + 1);
  ASSIGN_OR_RETURN(wal_, internal::WalWriter::Open(WalPath(wal_seq_), options_.sync));
  return internal::SyncDir(options_.dir);
}

Result<IngestReport> DurableFeatureStore::Ingest(std::span<const Event> events) {
  IngestReport report;
  std::vector<Event> accepted;
  std::vector<std::size_t> index;
  for (std::size_t i = 0; i < events.size(); ++i) {
    Status st = store_->Check(events[i]);
    if (st.ok()) {
      accepted.push_back(events[i]);
      index.push_back(i);
      continue;
    }
    ++(st.code() == StatusCode::kOutOfRange ? report.too_late : report.rejected);
    report.errors.emplace_back(i, std::move(st));
  }
  IngestReport applied;
  if (options_.deferred_log) {
    MutexLock lock(&mu_);
    if (!accepted.empty()) internal::WalWriter::Frame(EncodeEvents(accepted), &queued_);
    applied = store_->Reapply(accepted);
  } else {
    MutexLock log_lock(&log_mu_);
    MutexLock lock(&mu_);
    if (!accepted.empty()) RETURN_IF_ERROR(wal_->Append(EncodeEvents(accepted)));
    applied = store_->Reapply(accepted);
    MaybeSnapshot();
  }
  report.applied = applied.applied;
  report.rejected += applied.rejected;
  for (auto& [i, st] : applied.errors) report.errors.emplace_back(index[i], std::move(st));
  std::sort(report.errors.begin(), report.errors.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return report;
}

Status DurableFeatureStore::Flush() {
  if (!options_.deferred_log) return OkStatus();
  MutexLock log_lock(&log_mu_);
  std::string records;
  {
    MutexLock lock(&mu_);
    records.swap(queued_);
  }
  if (records.empty()) return OkStatus();
  if (Status s = wal_->AppendFramed(records); !s.ok()) {
    MutexLock lock(&mu_);
    queued_.insert(0, records);  // in order, before what came meanwhile
    return s;
  }
  MutexLock lock(&mu_);
  MaybeSnapshot();
  return OkStatus();
}

void DurableFeatureStore::MaybeSnapshot() {
  if (options_.snapshot_after_bytes > 0 && wal_->bytes() >= options_.snapshot_after_bytes) {
    // Every applied batch is durable whatever happens here: a failed
    // snapshot only leaves the log longer, and is reported separately.
    snapshot_status_ = SnapshotLocked();
  }
}

Status DurableFeatureStore::Snapshot() {
  MutexLock log_lock(&log_mu_);
  MutexLock lock(&mu_);
  snapshot_status_ = SnapshotLocked();
  return snapshot_status_;
}

Status DurableFeatureStore::LastSnapshotStatus() {
  MutexLock log_lock(&log_mu_);
  return snapshot_status_;
}

Status DurableFeatureStore::SnapshotLocked() {
  const uint64_t next = wal_seq_ + 1;
  const std::string tmp = options_.dir + "/" + kSnapshotName + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(&next), sizeof next);
    RETURN_IF_ERROR(store_->SaveSnapshot(out));
    out.close();
    if (!out) return InternalError("snapshot: cannot write " + tmp);
  }
  RETURN_IF_ERROR(FsyncFile(tmp));
  std::error_code ec;
  fs::rename(tmp, options_.dir + "/" + kSnapshotName, ec);
  if (ec) return InternalError("snapshot: rename failed: " + ec.message());
  RETURN_IF_ERROR(internal::SyncDir(options_.dir));
  ASSIGN_OR_RETURN(wal_, internal::WalWriter::Open(WalPath(next), options_.sync));
  for (uint64_t seq : ListWals(options_.dir)) {
    if (seq < next) fs::remove(WalPath(seq));
  }
  wal_seq_ = next;
  queued_.clear();  // the snapshot holds their events
  return internal::SyncDir(options_.dir);
}

}  // namespace hotpath::features
