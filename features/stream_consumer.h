// StreamConsumer: ingests events from a Redis stream through a consumer
// group, for deployments with many replicas. Each stream entry carries one
// JSON event in a field (default "event"). An entry is acknowledged (XACK)
// only after the sink returned for its batch — with a DurableFeatureStore or
// RedisFeatureStore sink, only once its events are applied durably — so a
// crash redelivers, never loses: on start a consumer first re-reads its own
// pending (delivered, unacknowledged) entries. Entries that can never apply
// (malformed JSON, too late) are acknowledged and reported, not retried.
//
// Not thread-safe: one consumer per thread (each with its own name).
#ifndef HOTPATH_FEATURES_STREAM_CONSUMER_H_
#define HOTPATH_FEATURES_STREAM_CONSUMER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "features/definitions.h"
#include "features/event.h"
#include "features/feature_store.h"

struct redisContext;

namespace hotpath::features {

struct StreamStats {
  std::size_t entries = 0;  // stream entries read
  std::size_t applied = 0;
  std::size_t too_late = 0;
  std::size_t rejected = 0;
  // (entry id, reason) of refused entries in this poll.
  std::vector<std::pair<std::string, Status>> errors;
};

class StreamConsumer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 6379;
    int timeout_ms = 2'000;  // I/O timeout; must exceed the block time of polls
    std::string stream;      // required
    std::string group;       // required; created (with the stream) when missing
    std::string consumer;    // required; unique per replica
    std::string field = "event";
    std::string start_id = "0";  // where a newly created group starts: "0" all, "$" new only
    int batch = 512;             // entries per poll, in [1, 100000]
  };

  // Connects and creates the group if needed. INVALID_ARGUMENT for bad
  // options; UNAVAILABLE when Redis cannot be reached.
  static Result<std::unique_ptr<StreamConsumer>> Create(const Options& options,
                                                        std::shared_ptr<const Definitions> defs,
                                                        IngestFn sink);
  ~StreamConsumer();
  StreamConsumer(const StreamConsumer&) = delete;
  StreamConsumer& operator=(const StreamConsumer&) = delete;

  // Reads up to `batch` entries (pending ones first), waiting at most
  // `block_ms` for new ones; hands their events to the sink in one batch and
  // acknowledges them once it returns OK. When the sink fails, nothing is
  // acknowledged and its error is returned (the entries will be redelivered).
  // UNAVAILABLE when Redis fails.
  Result<StreamStats> PollOnce(int block_ms);

 private:
  struct Entry;
  StreamConsumer(const Options& options, std::unique_ptr<EventParser> parser, IngestFn sink,
                 redisContext* conn);
  Result<std::vector<Entry>> Read(int block_ms);
  // XREADGROUP from "0" (own pending entries) or ">" (new, waiting block_ms).
  Result<std::vector<Entry>> ReadFrom(const std::string& from, int block_ms);
  Status Ack(const std::vector<Entry>& entries);
  Status RedisError(const std::string& what);

  const Options options_;
  std::unique_ptr<EventParser> parser_;
  IngestFn sink_;
  redisContext* conn_;         // owned
  bool pending_done_ = false;  // own pending entries have been re-read
};

}  // namespace hotpath::features

#endif  // HOTPATH_FEATURES_STREAM_CONSUMER_H_
