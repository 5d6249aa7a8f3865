#include "features/redis_store.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "features/internal/entity_state.h"
#include "features/internal/evaluate.h"
#include "features/internal/plan.h"
#include "features/internal/validate.h"

namespace hotpath::features {
namespace {

using internal::GroupPlan;
using internal::SlotKind;

// Applies one event's slot updates to a group hash, atomically. ARGV: bucket,
// cutoff bucket, ttl_ms, event ms, lifetime flag, update count, then per
// update: slot, kind (a add, n min, x max, f first, l last), value, pair
// slot ('' if none), pair value. A new bucket first drops buckets < cutoff.
constexpr char kApplyScript[] = R"lua(
local key, b = KEYS[1], ARGV[1]
local cutoff, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
local life, n = ARGV[5] == '1', tonumber(ARGV[6])
local function put(f, kind, xs, pf, pv)
  if kind == 'a' then redis.call('HINCRBYFLOAT', key, f, xs) return end
  local cur, x = tonumber(redis.call('HGET', key, f)), tonumber(xs)
  if cur == nil or (kind == 'n' and x < cur) or (kind == 'x' and x > cur) or
     (kind == 'f' and x < cur) or (kind == 'l' and x >= cur) then
    redis.call('HSET', key, f, xs)
    if pf ~= '' then redis.call('HSET', key, pf, pv) end
  end
end
if redis.call('HEXISTS', key, b .. ':' .. ARGV[7]) == 0 then
  for _, f in ipairs(redis.call('HKEYS', key)) do
    local fb = tonumber(string.match(f, '^(%-?%d+):'))
    if fb ~= nil and fb < cutoff then redis.call('HDEL', key, f) end
  end
end
for i = 0, n - 1 do
  local o = 7 + i * 5
  local slot, kind, xs, pair, pv = ARGV[o], ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
  put(b .. ':' .. slot, kind, xs, pair ~= '' and (b .. ':' .. pair) or '', pv)
  if life then put('L:' .. slot, kind, xs, pair ~= '' and ('L:' .. pair) or '', pv) end
end
local t = tonumber(redis.call('HGET', key, 't'))
if t == nil or tonumber(ARGV[4]) > t then redis.call('HSET', key, 't', ARGV[4]) end
if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
return 1
)lua";

std::string Num(double v) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.17g", v);
  return std::string(buf, static_cast<std::size_t>(n));
}

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

char KindChar(SlotKind k) {
  switch (k) {
    case SlotKind::kAdd:
      return 'a';
    case SlotKind::kMin:
      return 'n';
    case SlotKind::kMax:
      return 'x';
    case SlotKind::kFirstTs:
      return 'f';
    default:
      return 'l';
  }
}

double SlotInputOf(const internal::Slot& s, const Event& ev) {
  switch (s.input) {
    case internal::SlotInput::kOne:
      return 1;
    case internal::SlotInput::kValue:
      return ev.numbers[s.field];
    case internal::SlotInput::kSquare:
      return ev.numbers[s.field] * ev.numbers[s.field];
    case internal::SlotInput::kTime:
      return static_cast<double>(ev.ts_ms);
  }
  return 0;
}

bool HasLifetime(const GroupPlan& plan) {
  return std::any_of(plan.windows.begin(), plan.windows.end(),
                     [](const internal::WindowPlan& w) { return w.lifetime; });
}

// EVALSHA arguments applying `ev` to `plan`'s hash `key` at `now_ms`.
// args[1] is left for the script's SHA, known once connected.
std::vector<std::string> ScriptArgs(const GroupPlan& plan, const std::string& key, const Event& ev,
                                    int64_t now_ms) {
  const internal::SourcePlan& src = plan.sources[plan.source_of[ev.source]];
  const int64_t now_b = internal::BucketOf(now_ms, plan.bucket_ms);
  const int64_t ttl = plan.def->ttl_ms == kForeverMs ? 0 : plan.def->ttl_ms;
  std::vector<std::string> args = {"EVALSHA",
                                   "",
                                   "1",
                                   key,
                                   std::to_string(internal::BucketOf(ev.ts_ms, plan.bucket_ms)),
                                   std::to_string(now_b - plan.keep_buckets),
                                   std::to_string(ttl),
                                   std::to_string(ev.ts_ms),
                                   HasLifetime(plan) ? "1" : "0",
                                   ""};
  int updates = 0;
  for (int s = src.begin; s < src.end; ++s) {
    const internal::Slot& slot = plan.slots[s];
    if (slot.kind == SlotKind::kFirstV || slot.kind == SlotKind::kLastV) continue;
    args.push_back(std::to_string(s));
    args.push_back(std::string(1, KindChar(slot.kind)));
    args.push_back(Num(SlotInputOf(slot, ev)));
    args.push_back(slot.pair >= 0 ? std::to_string(slot.pair) : "");
    args.push_back(slot.pair >= 0 ? Num(ev.numbers[plan.slots[slot.pair].field]) : "");
    ++updates;
  }
  args[9] = std::to_string(updates);
  return args;
}

bool ParseDouble(std::string_view s, double* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

struct RedisFeatureStore::Cached {
  bool exists = false;
  internal::EntityState state;
  TimePoint fetched;
};

struct RedisFeatureStore::Fetch {
  int group = 0;
  std::string key;
  std::size_t slot = 0;  // index of the (entity, group) state it answers
  std::shared_ptr<const Cached> result;
};

namespace {

// Splits a field name "<bucket>:<slot>" or "L:<slot>"; false when malformed.
bool ParseField(std::string_view f, int nslots, int64_t* bucket, int* slot, bool* is_lifetime) {
  std::size_t colon = f.find(':');
  if (colon == std::string_view::npos) return false;
  auto [p, ec] = std::from_chars(f.data() + colon + 1, f.data() + f.size(), *slot);
  if (ec != std::errc() || p != f.data() + f.size() || *slot < 0 || *slot >= nslots) return false;
  *is_lifetime = f.substr(0, colon) == "L";
  if (*is_lifetime) return true;
  auto [q, ec2] = std::from_chars(f.data(), f.data() + colon, *bucket);
  return ec2 == std::errc() && q == f.data() + colon;
}

// One bucket cell of a feature hash.
struct Cell {
  int64_t bucket;
  int slot;
  double value;
};

// Lays cells out as EntityState buckets: ascending, [buckets, plan.stride].
std::vector<double> FlattenBuckets(const GroupPlan& plan, std::vector<Cell>& cells) {
  std::sort(cells.begin(), cells.end(),
            [](const Cell& a, const Cell& b) { return a.bucket < b.bucket; });
  const int nslots = static_cast<int>(plan.slots.size());
  std::vector<double> flat;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i == 0 || cells[i].bucket != cells[i - 1].bucket) {
      flat.push_back(static_cast<double>(cells[i].bucket));
      for (int s = 0; s < nslots; ++s) flat.push_back(plan.Identity(s));
    }
    flat[flat.size() - nslots + cells[i].slot] = cells[i].value;
  }
  return flat;
}

// Rebuilds an EntityState from an HGETALL reply; nullptr-free: a missing
// hash yields exists = false. False when a field is malformed.
bool DecodeHash(const GroupPlan& plan, const redisReply& reply, int64_t now_b,
                internal::EntityState* state, bool* exists) {
  *exists = reply.elements > 0;
  std::vector<Cell> cells;
  cells.reserve(reply.elements / 2);
  std::vector<double> lifetime(plan.slots.size());
  for (std::size_t s = 0; s < plan.slots.size(); ++s) lifetime[s] = plan.Identity(int(s));
  double last = -INFINITY;
  const int nslots = static_cast<int>(plan.slots.size());
  for (std::size_t i = 0; i + 1 < reply.elements; i += 2) {
    std::string_view f(reply.element[i]->str, reply.element[i]->len);
    std::string_view v(reply.element[i + 1]->str, reply.element[i + 1]->len);
    Cell cell{0, -1, 0};
    if (!ParseDouble(v, &cell.value)) return false;
    if (f == "t") {
      last = cell.value;
      continue;
    }
    bool is_lifetime = false;
    if (!ParseField(f, nslots, &cell.bucket, &cell.slot, &is_lifetime)) return false;
    if (is_lifetime) {
      lifetime[cell.slot] = cell.value;
    } else {
      cells.push_back(cell);
    }
  }
  *state = internal::EntityState::FromBuckets(
      plan, FlattenBuckets(plan, cells), lifetime,
      std::isfinite(last) ? static_cast<int64_t>(last) : INT64_MIN, now_b);
  return true;
}

}  // namespace

Result<std::unique_ptr<RedisFeatureStore>> RedisFeatureStore::Create(const Options& options) {
  if (options.definitions == nullptr)
    return InvalidArgumentError("RedisFeatureStore: definitions are required");
  if (options.clock == nullptr) return InvalidArgumentError("RedisFeatureStore: clock is required");
  if (options.port <= 0 || options.port > 65535)
    return InvalidArgumentError("RedisFeatureStore: port out of range");
  if (options.timeout_ms <= 0 || options.cache_max_entities == 0 || options.cache_ttl_ms < 0 ||
      options.max_staleness_ms < 0) {
    return InvalidArgumentError(
        "RedisFeatureStore: timeout_ms and cache_max_entities must be "
        "positive, cache_ttl_ms and max_staleness_ms non-negative");
  }
  std::vector<GroupPlan> plans;
  for (std::size_t g = 0; g < options.definitions->groups.size(); ++g) {
    plans.push_back(GroupPlan::Compile(*options.definitions, static_cast<int>(g)));
    const GroupPlan& p = plans.back();
    if (p.has_sketches()) {
      return UnimplementedError("group \"" + p.def->name + "\": aggregation \"" +
                                p.def->aggregations[p.sketch_aggs[0]].name +
                                "\" is a sketch, which shared (Redis) mode does not support");
    }
    if (p.slots.size() > internal::kMaxSlots) {
      return InvalidArgumentError("group \"" + p.def->name + "\": too many slots");
    }
  }
  return std::unique_ptr<RedisFeatureStore>(new RedisFeatureStore(options, std::move(plans)));
}

RedisFeatureStore::RedisFeatureStore(const Options& options, std::vector<GroupPlan> plans)
    : options_(options), plans_(std::move(plans)) {}

RedisFeatureStore::~RedisFeatureStore() {
  MutexLock lock(&conn_mu_);
  if (conn_ != nullptr) redisFree(conn_);
}

std::string RedisFeatureStore::ServerName() const {
  return "redis at " + options_.host + ":" + std::to_string(options_.port);
}

std::string RedisFeatureStore::HashKey(int group, const std::string& entity_key) const {
  return options_.key_prefix + plans_[group].def->name + ":" + entity_key;
}

Status RedisFeatureStore::Connect() {
  if (conn_ != nullptr) return OkStatus();
  timeval tv{options_.timeout_ms / 1000, (options_.timeout_ms % 1000) * 1000};
  redisContext* c = redisConnectWithTimeout(options_.host.c_str(), options_.port, tv);
  if (c == nullptr || c->err) {
    std::string why = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    return UnavailableError(ServerName() + " unreachable: " + why);
  }
  redisSetTimeout(c, tv);
  Reply r(static_cast<redisReply*>(redisCommand(c, "SCRIPT LOAD %s", kApplyScript)));
  if (!r || r->type != REDIS_REPLY_STRING) {
    std::string why = r ? std::string(r->str, r->len) : c->errstr;
    redisFree(c);
    return UnavailableError(ServerName() + ": cannot load the apply script: " + why);
  }
  script_sha_.assign(r->str, r->len);
  conn_ = c;
  return OkStatus();
}

IngestReport RedisFeatureStore::Prepare(std::span<const Event> events,
                                        std::vector<std::vector<std::string>>* commands) const {
  const Definitions& defs = *options_.definitions;
  const int64_t now_ms = WallMillis(*options_.clock);
  IngestReport report;
  for (std::size_t i = 0; i < events.size(); ++i) {
    Status st = internal::CheckShape(defs, events[i]);
    for (std::size_t g = 0; st.ok() && g < plans_.size(); ++g) {
      if (plans_[g].source_of[events[i].source] >= 0) {
        st = internal::CheckTime(*plans_[g].def, events[i], now_ms);
      }
    }
    if (!st.ok()) {
      ++(st.code() == StatusCode::kOutOfRange ? report.too_late : report.rejected);
      report.errors.emplace_back(i, std::move(st));
      continue;
    }
    ++report.applied;
    for (std::size_t g = 0; g < plans_.size(); ++g) {
      if (plans_[g].source_of[events[i].source] < 0) continue;
      commands->push_back(ScriptArgs(plans_[g], HashKey(static_cast<int>(g), events[i].entity_key),
                                     events[i], now_ms));
    }
  }
  return report;
}

Result<IngestReport> RedisFeatureStore::Ingest(std::span<const Event> events) {
  std::vector<std::vector<std::string>> commands;
  IngestReport report = Prepare(events, &commands);
  MutexLock lock(&conn_mu_);
  RETURN_IF_ERROR(Connect());
  for (auto& args : commands) {
    args[1] = script_sha_;
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const std::string& a : args) argv.push_back(a.data()), lens.push_back(a.size());
    redisAppendCommandArgv(conn_, static_cast<int>(argv.size()), argv.data(), lens.data());
  }
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(conn_, &raw) != REDIS_OK) {
      std::string why = conn_->errstr;
      redisFree(conn_);
      conn_ = nullptr;
      return UnavailableError(ServerName() + " failed during a write: " + why +
                              "; the batch may be partly applied, retry it");
    }
    Reply r(static_cast<redisReply*>(raw));
    if (r->type == REDIS_REPLY_ERROR) {
      return InternalError(ServerName() + " refused an update: " + std::string(r->str, r->len));
    }
  }
  return report;
}

Status RedisFeatureStore::FetchAll(std::vector<Fetch>& fetches) {
  const int64_t now_ms = WallMillis(*options_.clock);
  const TimePoint mono = options_.clock->Now();
  MutexLock lock(&conn_mu_);
  RETURN_IF_ERROR(Connect());
  for (const Fetch& f : fetches) {
    redisAppendCommand(conn_, "HGETALL %b", f.key.data(), f.key.size());
  }
  for (Fetch& f : fetches) {
    void* raw = nullptr;
    if (redisGetReply(conn_, &raw) != REDIS_OK) {
      std::string why = conn_->errstr;
      redisFree(conn_);
      conn_ = nullptr;
      return UnavailableError(ServerName() + " failed during a read: " + why);
    }
    Reply r(static_cast<redisReply*>(raw));
    auto cached = std::make_shared<Cached>();
    cached->fetched = mono;
    const GroupPlan& plan = plans_[f.group];
    if (r->type != REDIS_REPLY_ARRAY ||
        !DecodeHash(plan, *r, internal::BucketOf(now_ms, plan.bucket_ms), &cached->state,
                    &cached->exists)) {
      return DataLossError(ServerName() + ": hash " + f.key + " is not a hotpath feature hash");
    }
    f.result = std::move(cached);
  }
  return OkStatus();
}

void RedisFeatureStore::Remember(const std::string& key, std::shared_ptr<const Cached> entry) {
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    lru_.erase(it->second.second);
    cache_.erase(it);
  }
  lru_.push_front(key);
  cache_.emplace(key, std::make_pair(std::move(entry), lru_.begin()));
  while (cache_.size() > options_.cache_max_entities) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
}

std::vector<RedisFeatureStore::Fetch> RedisFeatureStore::LookupCache(
    std::span<const std::string> entity_keys, const std::vector<int>& groups, TimePoint mono,
    std::vector<std::shared_ptr<const Cached>>& states) {
  std::vector<Fetch> fetches;
  MutexLock lock(&cache_mu_);
  for (std::size_t i = 0; i < states.size(); ++i) {
    const int g = groups[i % groups.size()];
    std::string key = HashKey(g, entity_keys[i / groups.size()]);
    auto it = cache_.find(key);
    if (it != cache_.end()) states[i] = it->second.first;
    if (states[i] && mono - states[i]->fetched < std::chrono::milliseconds(options_.cache_ttl_ms)) {
      continue;
    }
    fetches.push_back(Fetch{g, std::move(key), i, nullptr});
  }
  return fetches;
}

Status RedisFeatureStore::Resolve(std::vector<Fetch>& fetches, TimePoint mono,
                                  std::vector<std::shared_ptr<const Cached>>& states,
                                  std::vector<bool>& stale) {
  if (fetches.empty()) return OkStatus();
  Status st = FetchAll(fetches);
  if (st.code() == StatusCode::kUnavailable) {
    // Redis is down: fall back on cached states no older than max_staleness_ms.
    for (const Fetch& f : fetches) {
      const auto& cached = states[f.slot];
      if (!cached ||
          mono - cached->fetched > std::chrono::milliseconds(options_.max_staleness_ms)) {
        return UnavailableError(st.message() + "; no cached state of " + f.key +
                                " within max_staleness_ms");
      }
      stale[f.slot] = true;
    }
    return OkStatus();
  }
  RETURN_IF_ERROR(st);
  MutexLock lock(&cache_mu_);
  for (Fetch& f : fetches) {
    states[f.slot] = f.result;
    Remember(f.key, std::move(f.result));
  }
  return OkStatus();
}

void RedisFeatureStore::Evaluate(const GroupPlan& plan, const Cached& c, const FeatureSelector& sel,
                                 int64_t now_ms, const Profile* profile, bool stale,
                                 FeatureValue* row) const {
  const int64_t ttl = plan.def->ttl_ms;
  if (!c.exists) {
    internal::FillGroup(sel, plan.group, ValueStatus::kNotFound, row);
  } else if (ttl != kForeverMs && now_ms - c.state.last_event_ms() > ttl) {
    internal::FillGroup(sel, plan.group, ValueStatus::kExpired, row);
  } else {
    internal::EvaluateGroup(plan, c.state, sel, now_ms, profile, row);
  }
  for (std::size_t r = 0; stale && r < sel.refs().size(); ++r) {
    if (sel.refs()[r].group == plan.group) row[r].stale = true;
  }
}

Status RedisFeatureStore::Read(std::span<const std::string> entity_keys, const FeatureSelector& sel,
                               const ReadOptions& options, std::vector<FeatureValue>* out) {
  if (!options.profiles.empty() && options.profiles.size() != entity_keys.size()) {
    return InvalidArgumentError("profiles: expected one per entity");
  }
  const int64_t now_ms = WallMillis(*options_.clock);
  if (options.as_of_ms.has_value() && *options.as_of_ms != now_ms) {
    return OutOfRangeError("as_of: shared (Redis) mode answers for now only");
  }
  const TimePoint mono = options_.clock->Now();
  const std::vector<int>& groups = sel.groups();
  // One state per (entity, group), entity-major.
  std::vector<std::shared_ptr<const Cached>> states(entity_keys.size() * groups.size());
  std::vector<bool> stale(states.size(), false);
  std::vector<Fetch> fetches = LookupCache(entity_keys, groups, mono, states);
  RETURN_IF_ERROR(Resolve(fetches, mono, states, stale));
  const std::size_t width = sel.refs().size();
  out->assign(entity_keys.size() * width, FeatureValue{});
  for (std::size_t i = 0; i < states.size(); ++i) {
    const std::size_t e = i / groups.size();
    const Profile* profile = options.profiles.empty() ? nullptr : &options.profiles[e];
    Evaluate(plans_[groups[i % groups.size()]], *states[i], sel, now_ms, profile, stale[i],
             &(*out)[e * width]);
  }
  return OkStatus();
}

}  // namespace hotpath::features
