// DurableFeatureStore: a FeatureStore whose state survives crashes. Each
// Ingest batch is written to a write-ahead log (one CRC-checked record,
// fdatasync'ed) before it is applied and acknowledged; snapshots of the whole
// state bound the log. Open() recovers: it loads the newest snapshot, replays
// the log after it, and cuts off a torn final record (a batch that was never
// acknowledged).
//
// Guarantee: an event in a batch whose Ingest returned OK (and was counted as
// applied) is never lost by a process crash, with `sync` also not by a power
// loss. Thread-safe; ingest is serialized (one log writer), reads go straight
// to the in-memory store and never wait for the log.
//
// Deferred logging (Options::deferred_log), for callers that acknowledge
// after a durable step of their own: Ingest applies the batch and queues its
// log record without touching the file, and Flush() writes every queued
// record in one write. The guarantee then holds for events whose Ingest
// returned before a Flush() that returned OK. The fraud engine flushes in the
// audit log's group commit, so the request thread never waits on the disk.
#ifndef HOTPATH_FEATURES_DURABLE_STORE_H_
#define HOTPATH_FEATURES_DURABLE_STORE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/status.h"
#include "core/thread_annotations.h"
#include "features/event.h"
#include "features/feature_store.h"

namespace hotpath::features {

namespace internal {
class WalWriter;
}

class DurableFeatureStore {
 public:
  struct Options {
    FeatureStore::Options store;
    std::string dir;   // required; created if missing; one store per directory
    bool sync = true;  // fdatasync every batch before acknowledging it
    bool deferred_log = false;  // see above
    // Take a snapshot (and start a new log) once the log passes this size;
    // 0 snapshots only when Snapshot() is called.
    uint64_t snapshot_after_bytes = 256ull << 20;
  };

  // Opens `dir`, recovering any state in it. DATA_LOSS when a snapshot or a
  // non-final log file is corrupt; INVALID_ARGUMENT for bad options.
  static Result<std::unique_ptr<DurableFeatureStore>> Open(const Options& options);
  ~DurableFeatureStore();
  DurableFeatureStore(const DurableFeatureStore&) = delete;
  DurableFeatureStore& operator=(const DurableFeatureStore&) = delete;

  // Checks each event (as FeatureStore::Ingest does), logs the acceptable
  // ones durably (deferred: queues their record), applies them and reports.
  // UNAVAILABLE when the log cannot be written: then nothing of the batch is
  // applied or acknowledged. An automatic snapshot that fails does not fail
  // the batch (see LastSnapshotStatus).
  Result<IngestReport> Ingest(std::span<const Event> events) EXCLUDES(log_mu_, mu_);

  // Deferred logging: writes the queued records (and takes an automatic
  // snapshot when the log has grown past snapshot_after_bytes). UNAVAILABLE
  // when the write fails: the records stay queued, in order, for the next
  // Flush. OK at once without deferred logging. Ingest proceeds meanwhile,
  // except during a snapshot.
  Status Flush() EXCLUDES(log_mu_, mu_);

  // Writes a snapshot of the whole state and starts a new log, deleting the
  // old ones. Blocks ingest meanwhile (reads continue).
  Status Snapshot() EXCLUDES(log_mu_, mu_);

  // The outcome of the latest snapshot (automatic or not); OK before any.
  Status LastSnapshotStatus() EXCLUDES(log_mu_);

  // The in-memory store, for reads.
  const FeatureStore& store() const { return *store_; }

 private:
  DurableFeatureStore(const Options& options, std::unique_ptr<FeatureStore> store);
  Status Recover() EXCLUDES(log_mu_, mu_);
  // Snapshots when the log has grown past snapshot_after_bytes.
  void MaybeSnapshot() REQUIRES(log_mu_, mu_);
  Status SnapshotLocked() REQUIRES(log_mu_, mu_);
  std::string WalPath(uint64_t seq) const;

  const Options options_;
  std::unique_ptr<FeatureStore> store_;
  // log_mu_ (the log file) is taken before mu_ (the store's state and the
  // queued records) when both are held.
  Mutex log_mu_;
  Mutex mu_;
  // The log being appended; its file is wal-<wal_seq_>.log. Every acknowledged
  // batch is in the snapshot or in a log file with seq >= the snapshot's.
  std::unique_ptr<internal::WalWriter> wal_ GUARDED_BY(log_mu_);
  uint64_t wal_seq_ GUARDED_BY(log_mu_) = 0;
  Status snapshot_status_ GUARDED_BY(log_mu_);
  // Deferred logging: framed records of applied batches not yet written.
  std::string queued_ GUARDED_BY(mu_);
};

}  // namespace hotpath::features

#endif  // HOTPATH_FEATURES_DURABLE_STORE_H_
