// bench_features: the feature layer's figures. Ingests a day of events for
// --entities entities into 4 aggregations x 3 windows on one core, measures
// in-process reads of 20 features of one entity, the same reads over HTTP
// (the server's POST /v1/features/read route on the same store, open-loop
// load at a fixed rate), bytes per entity, and in shared mode hotpath's Redis
// read path against a raw pipelined HGETALL on the same Redis. Progress goes
// to stderr; the last stdout line is one JSON object.
#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "features/feature_store.h"
#include "features/internal/huge_page_arena.h"
#include "features/internal/redis_server_process.h"
#include "features/redis_store.h"
#include "serve/apps/features_http.h"
#include "serve/apps/features_http_server.h"
#include "serve/loadgen/load_generator.h"

namespace hotpath::features {
namespace {

using Steady = std::chrono::steady_clock;

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kStartMs = 1'700'000'000'000;

const char* kDefs = R"({
  "entities": [{"name": "user", "keys": ["user_id"]}],
  "sources": [{"name": "txn", "entity": "user", "timestamp_field": "ts"}],
  "groups": [{
    "name": "u", "entity": "user", "bucket": "1m", "allowed_lateness": "5m", "ttl": "7d",
    "windows": ["5m", "1h", "24h"],
    "aggregations": [
      {"name": "count", "source": "txn", "kind": "count"},
      {"name": "sum", "source": "txn", "field": "amount", "kind": "sum"},
      {"name": "mean", "source": "txn", "field": "amount", "kind": "mean"},
      {"name": "max", "source": "txn", "field": "amount", "kind": "max"}
    ],
    "derived": [
      {"name": "sum_ratio", "kind": "ratio", "numerator": "sum.5m", "denominator": "sum.24h"},
      {"name": "count_ratio", "kind": "ratio", "numerator": "count.1h", "denominator": "count.24h"},
      {"name": "mean_ratio", "kind": "ratio", "numerator": "mean.1h", "denominator": "mean.24h"},
      {"name": "log_sum_1h", "kind": "log1p", "input": "sum.1h"},
      {"name": "log_sum_24h", "kind": "log1p", "input": "sum.24h"},
      {"name": "log_count_24h", "kind": "log1p", "input": "count.24h"},
      {"name": "since_last", "kind": "time_since_last", "source": "txn"},
      {"name": "hour", "kind": "hour_of_day"}
    ]
  }]
})";

struct Args {
  std::size_t entities = 1'000'000;
  std::size_t events_per_entity = 8;
  std::size_t reads = 200'000;
  std::size_t batch = 4096;
  std::size_t redis_entities = 10'000;
  std::size_t redis_reads = 50'000;
  bool redis = true;
  bool http = true;
  std::size_t http_rate = 10'000;  // reads per second, open loop
  std::size_t http_seconds = 5;    // measured seconds (after 1 s of warm-up)
  // The server loop's busy-poll before blocking: on this 2-vCPU VM a
  // blocked loop pays a wake-up per read at 10k reads/s (p99 ~250 us); 100
  // us of polling keeps it awake between reads for up to a core of CPU.
  std::size_t http_busy_poll_us = 100;
  std::size_t http_client_spin_us = 50;  // the load generator's spin before each send
};

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::size_t v = std::stoull(argv[i + 1]);
    if (flag == "--entities") a.entities = v;
    if (flag == "--events-per-entity") a.events_per_entity = v;
    if (flag == "--reads") a.reads = v;
    if (flag == "--batch") a.batch = std::max<std::size_t>(1, v);
    if (flag == "--redis") a.redis = v != 0;
    if (flag == "--redis-entities") a.redis_entities = v;
    if (flag == "--redis-reads") a.redis_reads = v;
    if (flag == "--http") a.http = v != 0;
    if (flag == "--http-rate") a.http_rate = std::max<std::size_t>(1, v);
    if (flag == "--http-seconds") a.http_seconds = std::max<std::size_t>(1, v);
    if (flag == "--http-busy-poll-us") a.http_busy_poll_us = v;
    if (flag == "--http-client-spin-us") a.http_client_spin_us = v;
  }
  return a;
}

std::vector<std::string> FeatureNames() {
  std::vector<std::string> names;
  for (const char* agg : {"count", "sum", "mean", "max"}) {
    for (const char* w : {"5m", "1h", "24h"}) names.push_back(std::string("u.") + agg + "." + w);
  }
  for (const char* d : {"sum_ratio", "count_ratio", "mean_ratio", "log_sum_1h", "log_sum_24h",
                        "log_count_24h", "since_last", "hour"}) {
    names.push_back(std::string("u.") + d);
  }
  return names;
}

std::string Key(std::size_t i) { return "user:" + std::to_string(i); }

struct IngestResult {
  double events_per_cpu_s;   // per second of the ingesting thread's CPU time
  double events_per_wall_s;  // per second of wall time spent in Ingest calls
  std::size_t events;
  std::size_t refused;
};

// CPU time consumed by the calling thread: unlike wall time, it does not
// count time the thread was preempted on a shared machine.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Events per batch: at most --batch, and spanning at most a minute of event
// time (a batch is what arrived recently; the group allows 5m lateness).
std::size_t BatchSize(const Args& args, std::size_t total) {
  std::size_t per_minute = static_cast<std::size_t>(static_cast<double>(total) * 60'000 / kDayMs);
  return std::clamp<std::size_t>(per_minute, 1, args.batch);
}

// Fills batch[0, k) with events `done`..`done + k` of a day spread evenly
// over `total` events, each for a uniformly random one of `entities`;
// returns the last event time.
int64_t FillBatch(std::vector<Event>& batch, std::size_t k, std::size_t done, std::size_t total,
                  std::size_t entities, std::mt19937_64& rng) {
  int64_t ts = 0;
  for (std::size_t i = 0; i < k; ++i) {
    ts = kStartMs + static_cast<int64_t>((done + i) * kDayMs / total);
    batch[i].entity_key = Key(rng() % entities);
    batch[i].ts_ms = ts;
    batch[i].numbers.assign(1, static_cast<double>(rng() % 10'000) / 100);
  }
  return ts;
}

// One day of events in time order, in batches; only Ingest calls are timed.
IngestResult Ingest(FeatureStore& store, FakeClock& clock, const Args& args) {
  const std::size_t total = args.entities * args.events_per_entity;
  std::vector<Event> batch(BatchSize(args, total));
  std::mt19937_64 rng(1);
  Steady::duration busy{};
  double cpu = 0;
  std::size_t refused = 0;
  for (std::size_t done = 0; done < total;) {
    const std::size_t n = std::min<std::size_t>(batch.size(), total - done);
    const int64_t ts = FillBatch(batch, n, done, total, args.entities, rng);
    clock.Advance(std::chrono::milliseconds(ts - WallMillis(clock)));
    const double c0 = ThreadCpuSeconds();
    auto t0 = Steady::now();
    IngestReport r = store.Ingest({batch.data(), n});
    busy += Steady::now() - t0;
    cpu += ThreadCpuSeconds() - c0;
    refused += n - r.applied;
    done += n;
    if (done % (1 << 22) < n) std::fprintf(stderr, "ingested %zu/%zu\n", done, total);
  }
  if (refused > 0) std::fprintf(stderr, "ingest: %zu of %zu events refused\n", refused, total);
  return {static_cast<double>(total) / cpu,
          static_cast<double>(total) / std::chrono::duration<double>(busy).count(), total, refused};
}

struct HeapBytes {
  // Blocks handed out: malloc's small blocks and mmap'ed large ones, plus the
  // blocks of the huge-page arena that holds entity tables and states.
  std::size_t in_use;
  // in_use plus the released blocks both keep on their free lists.
  std::size_t held;
};

HeapBytes MeasureHeap() {
  struct mallinfo2 mi = mallinfo2();
  const auto arena = hotpath::features::internal::ArenaBytes();
  return {mi.uordblks + mi.hblkhd + arena.in_use,
          mi.uordblks + mi.fordblks + mi.hblkhd + arena.held};
}

double Percentile(std::vector<double>& v, double q) {
  std::size_t k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// Latencies (µs) of single-entity reads of all features in `sel`.
std::vector<double> InprocReads(const FeatureStore& store, const FeatureSelector& sel,
                                const Args& args) {
  std::mt19937_64 rng(2);
  std::vector<std::string> key(1);
  std::vector<FeatureValue> out;
  std::vector<double> lat;
  lat.reserve(args.reads);
  std::size_t present = 0;
  for (std::size_t i = 0; i < args.reads; ++i) {
    key[0] = Key(rng() % args.entities);
    auto t0 = Steady::now();
    Status st = store.Read(key, sel, {}, &out);
    auto t1 = Steady::now();
    if (!st.ok()) std::fprintf(stderr, "read: %s\n", st.ToString().c_str());
    present += out[0].status == ValueStatus::kPresent;
    lat.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::fprintf(stderr, "in-process reads: %zu of %zu entities present\n", present, args.reads);
  return lat;
}

struct HttpResult {
  double p50_us = 0, p99_us = 0, ok_rps = 0;
  uint64_t errors = 0;
  double handler_p50_us = 0, handler_p99_us = 0;  // the route alone, called in-process
};

// Bodies of POST /v1/features/read: all features of one random entity each.
std::vector<std::string> HttpReadBodies(const FeatureSelector& sel, const Args& args,
                                        std::size_t n) {
  std::mt19937_64 rng(5);
  std::string features;
  for (const std::string& f : sel.names())
    features += (features.empty() ? "\"" : ", \"") + f + "\"";
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back("{\"entities\": [\"" + Key(rng() % args.entities) + "\"], \"features\": [" +
                  features + "]}");
  }
  return out;
}

// The route's own cost: Handle() on each body, no sockets (µs per call).
std::vector<double> HandlerLatencies(HttpApp& app, const std::vector<std::string>& bodies) {
  std::vector<double> lat;
  int bad = 0;
  for (int round = 0; round < 5; ++round) {
    for (const std::string& body : bodies) {
      auto t0 = Steady::now();
      app.Handle({"POST", "/v1/features/read", "", body},
                 [&bad](HttpAppResponse r) { bad += r.status != 200; });
      lat.push_back(std::chrono::duration<double, std::micro>(Steady::now() - t0).count());
    }
  }
  if (bad > 0) std::fprintf(stderr, "route: %d reads failed\n", bad);
  return lat;
}

// Serves `store` through the server's feature routes (one event loop) and
// drives reads at --http-rate per second, open loop (latency from each
// request's scheduled time: no coordinated omission).
Result<HttpResult> HttpReads(std::shared_ptr<const Definitions> defs, FeatureStore& store,
                             const FeatureSelector& sel, const Args& args) {
  ASSIGN_OR_RETURN(auto app, FeaturesHttpApp::Create(
                                 std::move(defs), &store, [&store](std::span<const Event> events) {
                                   return Result<IngestReport>(store.Ingest(events));
                                 }));
  const std::vector<std::string> bodies = HttpReadBodies(sel, args, 4096);
  HttpResult out;
  std::vector<double> handler = HandlerLatencies(*app, bodies);
  out.handler_p50_us = Percentile(handler, 0.5);
  out.handler_p99_us = Percentile(handler, 0.99);
  FeaturesHttpServer::Options so;
  so.busy_poll_us = static_cast<int64_t>(args.http_busy_poll_us);
  ASSIGN_OR_RETURN(auto server, FeaturesHttpServer::Start(so, app.get()));
  loadgen::LoadOptions o;
  o.port = server->port();
  o.mode = loadgen::LoadOptions::Mode::kOpenLoop;
  o.rate_rps = static_cast<double>(args.http_rate);
  o.connections = 16;
  o.warmup = std::chrono::milliseconds(1000);
  o.duration = std::chrono::milliseconds(1000 * args.http_seconds);
  o.spin_before_send = std::chrono::microseconds(args.http_client_spin_us);
  for (const std::string& body : bodies) {
    o.requests.push_back(
        "POST /v1/features/read HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body);
  }
  ASSIGN_OR_RETURN(loadgen::LoadResult r, loadgen::RunLoad(o));
  out.p50_us = static_cast<double>(r.latency.Quantile(0.50)) / 1e3;
  out.p99_us = static_cast<double>(r.latency.Quantile(0.99)) / 1e3;
  out.ok_rps = r.ok_rps();
  out.errors = r.completed - r.ok + r.io_errors + r.client_dropped + r.unfinished;
  std::fprintf(stderr,
               "HTTP reads at %zu/s (server busy-poll %zu us, client spin %zu us): %.0f ok/s, "
               "p50 %.1f us, p99 %.1f us, %llu errors; "
               "the route alone (in-process Handle): p50 %.2f us, p99 %.2f us\n",
               args.http_rate, args.http_busy_poll_us, args.http_client_spin_us, out.ok_rps, out.p50_us, out.p99_us,
               static_cast<unsigned long long>(out.errors), out.handler_p50_us, out.handler_p99_us);
  return out;
}

// The HTTP members of the result line.
std::string HttpJson(std::shared_ptr<const Definitions> defs, FeatureStore& store,
                     const FeatureSelector& sel, const Args& args) {
  const std::string nulls = "\"http_read_p50_us\": null, \"http_read_p99_us\": null";
  if (!args.http) return nulls;
  Result<HttpResult> h = HttpReads(std::move(defs), store, sel, args);
  if (!h.ok()) {
    std::fprintf(stderr, "HTTP reads skipped: %s\n", h.status().ToString().c_str());
    return nulls;
  }
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "\"http_read_p50_us\": %.1f, \"http_read_p99_us\": %.1f, \"http_errors\": %llu, "
                "\"http_route_p50_us\": %.2f, \"http_route_p99_us\": %.2f, \"http_busy_poll_us\": %zu",
                h->p50_us, h->p99_us, static_cast<unsigned long long>(h->errors), h->handler_p50_us,
                h->handler_p99_us, args.http_busy_poll_us);
  return buf;
}

struct SharedResult {
  double shared_p50 = 0, shared_p99 = 0, raw_p50 = 0, raw_p99 = 0;
};

Status PopulateRedis(RedisFeatureStore& store, FakeClock& clock, const Args& args, std::size_t n) {
  const std::size_t total = n * args.events_per_entity;
  std::mt19937_64 rng(3);
  std::vector<Event> batch(BatchSize(args, total));
  for (std::size_t done = 0; done < total;) {
    const std::size_t k = std::min<std::size_t>(batch.size(), total - done);
    const int64_t ts = FillBatch(batch, k, done, total, n, rng);
    clock.Advance(std::chrono::milliseconds(ts - WallMillis(clock)));
    ASSIGN_OR_RETURN(IngestReport r, store.Ingest({batch.data(), k}));
    if (r.applied != k) return InternalError("shared mode: redis store refused events");
    done += k;
  }
  std::fprintf(stderr, "shared mode: %zu events for %zu entities written to redis\n", total, n);
  return OkStatus();
}

// Times hotpath's shared read of one entity against a raw pipelined HGETALL
// of the same hash. The two alternate which goes first, so neither profits
// from the other having just warmed Redis and the caches for that key.
Result<SharedResult> TimeSharedReads(RedisFeatureStore& store, redisContext* raw,
                                     const FeatureSelector& sel, const Args& args, std::size_t n) {
  std::mt19937_64 rng(4);
  std::vector<double> shared_lat, raw_lat;
  std::vector<std::string> key(1);
  std::vector<FeatureValue> out;
  auto timed = [](auto&& fn, std::vector<double>& lat) {
    auto t0 = Steady::now();
    Status st = fn();
    lat.push_back(std::chrono::duration<double, std::micro>(Steady::now() - t0).count());
    return st;
  };
  for (std::size_t i = 0; i < args.redis_reads; ++i) {
    key[0] = Key(rng() % n);
    const std::string hkey = "hp:u:" + key[0];
    auto hotpath_read = [&] { return store.Read(key, sel, {}, &out); };
    auto raw_read = [&]() -> Status {
      redisAppendCommand(raw, "HGETALL %b", hkey.data(), hkey.size());
      void* reply = nullptr;
      if (redisGetReply(raw, &reply) != REDIS_OK) return UnavailableError("raw HGETALL failed");
      freeReplyObject(reply);
      return OkStatus();
    };
    const bool hotpath_first = i % 2 == 0;
    RETURN_IF_ERROR(hotpath_first ? timed(hotpath_read, shared_lat) : timed(raw_read, raw_lat));
    RETURN_IF_ERROR(hotpath_first ? timed(raw_read, raw_lat) : timed(hotpath_read, shared_lat));
  }
  return SharedResult{Percentile(shared_lat, 0.5), Percentile(shared_lat, 0.99),
                      Percentile(raw_lat, 0.5), Percentile(raw_lat, 0.99)};
}

// Shared mode on a private redis-server; hotpath's cache is off (TTL 0), so
// every read pays its round trip.
Result<SharedResult> SharedMode(std::shared_ptr<const Definitions> defs, const FeatureSelector& sel,
                                const Args& args) {
  internal::RedisServerProcess server;
  if (!server.Start()) return UnavailableError("cannot start redis-server");
  FakeClock clock{TimePoint(std::chrono::milliseconds(kStartMs))};
  RedisFeatureStore::Options o;
  o.definitions = std::move(defs);
  o.clock = &clock;
  o.port = server.port();
  o.cache_ttl_ms = 0;
  ASSIGN_OR_RETURN(auto store, RedisFeatureStore::Create(o));
  const std::size_t n = std::min(args.redis_entities, args.entities);
  RETURN_IF_ERROR(PopulateRedis(*store, clock, args, n));
  redisContext* raw = redisConnect("127.0.0.1", server.port());
  if (raw == nullptr || raw->err) return UnavailableError("raw redis connection failed");
  Result<SharedResult> res = TimeSharedReads(*store, raw, sel, args, n);
  redisFree(raw);
  if (res.ok()) {
    std::fprintf(stderr,
                 "shared read p50 %.1f us p99 %.1f us; raw HGETALL p50 %.1f us p99 %.1f us\n",
                 res->shared_p50, res->shared_p99, res->raw_p50, res->raw_p99);
  }
  return res;
}

// The shared-mode members of the result line.
std::string SharedJson(const Args& args, std::shared_ptr<const Definitions> defs,
                       const FeatureSelector& sel) {
  std::string nulls =
      "\"shared_read_p50_us\": null, \"shared_read_p99_us\": null, "
      "\"raw_redis_p50_us\": null, \"raw_redis_p99_us\": null, \"vs_raw_redis\": null";
  if (!args.redis) return nulls;
  Result<SharedResult> sh = SharedMode(std::move(defs), sel, args);
  if (!sh.ok()) {
    std::fprintf(stderr, "shared mode skipped: %s\n", sh.status().ToString().c_str());
    return nulls;
  }
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "\"shared_read_p50_us\": %.1f, \"shared_read_p99_us\": %.1f, "
                "\"raw_redis_p50_us\": %.1f, \"raw_redis_p99_us\": %.1f, \"vs_raw_redis\": %.3f",
                sh->shared_p50, sh->shared_p99, sh->raw_p50, sh->raw_p99,
                sh->shared_p99 / sh->raw_p99);
  return buf;
}

}  // namespace
}  // namespace hotpath::features

int main(int argc, char** argv) {
  using namespace hotpath;
  using namespace hotpath::features;
  const Args args = ParseArgs(argc, argv);
  auto defs = std::make_shared<Definitions>(ParseDefinitions(kDefs, "bench").value());
  FakeClock clock{TimePoint(std::chrono::milliseconds(kStartMs))};
  FeatureStore::Options opt;
  opt.definitions = defs;
  opt.clock = &clock;
  const HeapBytes heap0 = MeasureHeap();
  auto store = std::move(FeatureStore::Create(opt)).value();
  std::fprintf(stderr, "ingesting %zu events for %zu entities (4 aggs x 3 windows)\n",
               args.entities * args.events_per_entity, args.entities);
  IngestResult ing = Ingest(*store, clock, args);
  const HeapBytes heap1 = MeasureHeap();
  StoreStats stats = store->Stats();
  const double bytes_per_entity = static_cast<double>(heap1.in_use - heap0.in_use) / stats.entities;
  const double held_per_entity = static_cast<double>(heap1.held - heap0.held) / stats.entities;
  std::fprintf(stderr,
               "ingest: %.0f events per CPU second (%.0f per wall second); %zu entities; "
               "%.0f heap bytes/entity in use, %.0f held with free lists (%.0f in entity state)\n",
               ing.events_per_cpu_s, ing.events_per_wall_s, stats.entities, bytes_per_entity,
               held_per_entity, static_cast<double>(stats.state_bytes) / stats.entities);
  FeatureSelector sel = FeatureSelector::Create(*defs, FeatureNames()).value();
  std::vector<double> lat = InprocReads(*store, sel, args);
  const double p50 = Percentile(lat, 0.5), p99 = Percentile(lat, 0.99);
  std::fprintf(stderr, "in-process read of %zu features: p50 %.3f us, p99 %.3f us\n",
               sel.refs().size(), p50, p99);
  const std::string http = HttpJson(defs, *store, sel, args);
  const std::string shared = SharedJson(args, defs, sel);
  std::printf(
      "{\"entities\": %zu, \"events\": %zu, \"refused\": %zu, \"ingest_events_per_s\": %.0f, "
      "\"ingest_wall_events_per_s\": %.0f, "
      "\"inproc_read_p50_us\": %.3f, \"inproc_read_p99_us\": %.3f, "
      "%s, \"bytes_per_entity\": %.0f, \"held_bytes_per_entity\": %.0f, %s}\n",
      stats.entities, ing.events, ing.refused, ing.events_per_cpu_s, ing.events_per_wall_s, p50,
      p99, http.c_str(), bytes_per_entity, held_per_entity, shared.c_str());
  return 0;
}
