#include "features/stream_consumer.h"

#include <hiredis/hiredis.h>

namespace hotpath::features {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

Reply Command(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const std::string& a : args) argv.push_back(a.data()), lens.push_back(a.size());
  return Reply(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
}

std::string Str(const redisReply* r) { return r && r->str ? std::string(r->str, r->len) : ""; }

}  // namespace

struct StreamConsumer::Entry {
  std::string id;
  std::string json;  // empty when the entry lacks the event field
};

Result<std::unique_ptr<StreamConsumer>> StreamConsumer::Create(
    const Options& options, std::shared_ptr<const Definitions> defs, IngestFn sink) {
  if (options.stream.empty() || options.group.empty() || options.consumer.empty() || !sink) {
    return InvalidArgumentError("StreamConsumer: stream, group, consumer and sink are required");
  }
  if (options.batch < 1 || options.batch > 100'000 || options.timeout_ms <= 0) {
    return InvalidArgumentError(
        "StreamConsumer: batch must be in [1, 100000], timeout_ms positive");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<EventParser> parser, EventParser::Create(std::move(defs)));
  timeval tv{options.timeout_ms / 1000, (options.timeout_ms % 1000) * 1000};
  redisContext* c = redisConnectWithTimeout(options.host.c_str(), options.port, tv);
  if (c == nullptr || c->err) {
    std::string why = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    return UnavailableError("redis at " + options.host + ":" + std::to_string(options.port) +
                            " unreachable: " + why);
  }
  redisSetTimeout(c, tv);
  Reply r =
      Command(c, {"XGROUP", "CREATE", options.stream, options.group, options.start_id, "MKSTREAM"});
  if (!r || (r->type == REDIS_REPLY_ERROR && Str(r.get()).rfind("BUSYGROUP", 0) != 0)) {
    std::string why = r ? Str(r.get()) : c->errstr;
    redisFree(c);
    return UnavailableError("XGROUP CREATE " + options.stream + " " + options.group + ": " + why);
  }
  return std::unique_ptr<StreamConsumer>(
      new StreamConsumer(options, std::move(parser), std::move(sink), c));
}

StreamConsumer::StreamConsumer(const Options& options, std::unique_ptr<EventParser> parser,
                               IngestFn sink, redisContext* conn)
    : options_(options), parser_(std::move(parser)), sink_(std::move(sink)), conn_(conn) {}

StreamConsumer::~StreamConsumer() { redisFree(conn_); }

Status StreamConsumer::RedisError(const std::string& what) {
  return UnavailableError("redis at " + options_.host + ":" + std::to_string(options_.port) + ": " +
                          what + ": " + (conn_->err ? conn_->errstr : "bad reply"));
}

Result<std::vector<StreamConsumer::Entry>> StreamConsumer::ReadFrom(const std::string& from,
                                                                    int block_ms) {
  std::vector<std::string> args = {"XREADGROUP",      "GROUP", options_.group,
                                   options_.consumer, "COUNT", std::to_string(options_.batch)};
  if (from == ">") args.insert(args.end(), {"BLOCK", std::to_string(block_ms)});
  args.insert(args.end(), {"STREAMS", options_.stream, from});
  Reply r = Command(conn_, args);
  if (!r || r->type == REDIS_REPLY_ERROR) return RedisError("XREADGROUP " + Str(r.get()));
  std::vector<Entry> entries;
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 || r->element[0]->elements != 2) {
    return entries;  // nil: nothing arrived within block_ms
  }
  const redisReply* list = r->element[0]->element[1];
  for (std::size_t i = 0; i < list->elements; ++i) {
    const redisReply* e = list->element[i];
    Entry entry{Str(e->element[0]), ""};
    const redisReply* fields = e->elements > 1 ? e->element[1] : nullptr;
    for (std::size_t f = 0; fields && f + 1 < fields->elements; f += 2) {
      if (Str(fields->element[f]) == options_.field) entry.json = Str(fields->element[f + 1]);
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<std::vector<StreamConsumer::Entry>> StreamConsumer::Read(int block_ms) {
  // Own pending entries ("0") first; once none is left, new ones (">").
  if (!pending_done_) {
    ASSIGN_OR_RETURN(std::vector<Entry> pending, ReadFrom("0", 0));
    if (!pending.empty()) return pending;
    pending_done_ = true;
  }
  return ReadFrom(">", block_ms);
}

Status StreamConsumer::Ack(const std::vector<Entry>& entries) {
  if (entries.empty()) return OkStatus();
  std::vector<std::string> args = {"XACK", options_.stream, options_.group};
  for (const Entry& e : entries) args.push_back(e.id);
  Reply r = Command(conn_, args);
  if (!r || r->type != REDIS_REPLY_INTEGER) return RedisError("XACK " + Str(r.get()));
  return OkStatus();
}

Result<StreamStats> StreamConsumer::PollOnce(int block_ms) {
  ASSIGN_OR_RETURN(std::vector<Entry> entries, Read(block_ms));
  StreamStats stats;
  stats.entries = entries.size();
  std::vector<Event> events;
  std::vector<std::size_t> origin;  // entry index of each event
  for (std::size_t i = 0; i < entries.size(); ++i) {
    Result<Event> ev =
        entries[i].json.empty()
            ? Result<Event>(InvalidArgumentError("entry has no \"" + options_.field + "\" field"))
            : parser_->Parse(entries[i].json);
    if (!ev.ok()) {
      ++stats.rejected;
      stats.errors.emplace_back(entries[i].id, ev.status());
      continue;
    }
    events.push_back(std::move(ev).value());
    origin.push_back(i);
  }
  if (!events.empty()) {
    Result<IngestReport> report = sink_(events);
    if (!report.ok()) {
      pending_done_ = false;  // the next poll re-reads these (now pending) first
      return report.status();
    }
    stats.applied = report->applied;
    stats.too_late = report->too_late;
    stats.rejected += report->rejected;
    for (auto& [i, st] : report->errors) {
      stats.errors.emplace_back(entries[origin[i]].id, std::move(st));
    }
  }
  Status acked = Ack(entries);
  if (!acked.ok()) {
    pending_done_ = false;
    return acked;
  }
  return stats;
}

}  // namespace hotpath::features
