// Alert sinks against real receivers: a redis-server the test starts (the
// stream is read back with XRANGE) and a local HTTP listener.
#include "observe/alert_sink.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "features/internal/redis_server_process.h"

namespace hotpath {
namespace {

// Waits (real time: the sink's thread talks to a real receiver) until
// `done` holds, up to 10 s.
template <typename Fn>
bool WaitFor(Fn done) {
  for (int i = 0; i < 1000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done();
}

TEST(AlertsTest, RedisStreamReceivesEveryAlert) {
  if (features::internal::RedisServerProcess::FindBinary().empty()) GTEST_SKIP() << "redis-server missing";
  features::internal::RedisServerProcess redis;
  ASSERT_TRUE(redis.Start());
  RedisStreamAlertSink::Options o;
  o.port = redis.port();
  o.stream = "alerts-test";
  auto sink = RedisStreamAlertSink::Create(o);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  for (int i = 0; i < 3; ++i) (*sink)->Publish("{\"id\":\"t" + std::to_string(i) + "\",\"decision\":\"block\"}");
  ASSERT_TRUE(WaitFor([&] { return (*sink)->stats().published == 3; }));
  redisContext* c = redisConnect("127.0.0.1", redis.port());
  ASSERT_TRUE(c != nullptr && !c->err);
  auto* reply = static_cast<redisReply*>(redisCommand(c, "XRANGE alerts-test - +"));
  ASSERT_TRUE(reply != nullptr && reply->type == REDIS_REPLY_ARRAY);
  ASSERT_EQ(reply->elements, 3u);
  for (size_t i = 0; i < 3; ++i) {
    const redisReply* fields = reply->element[i]->element[1];
    EXPECT_EQ(std::string(fields->element[0]->str), "alert");
    EXPECT_EQ(std::string(fields->element[1]->str), "{\"id\":\"t" + std::to_string(i) + "\",\"decision\":\"block\"}");
  }
  freeReplyObject(reply);
  redisFree(c);
}

TEST(AlertsTest, RedisDownAtStartIsUnavailable) {
  RedisStreamAlertSink::Options o;
  o.port = 1;  // nothing listens there
  EXPECT_EQ(RedisStreamAlertSink::Create(o).status().code(), StatusCode::kUnavailable);
}

TEST(AlertsTest, WebhookPostsTheJsonAndCountsFailures) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  listen(listener, 4);
  std::vector<std::string> bodies;
  std::thread receiver([&] {
    for (int i = 0; i < 2; ++i) {
      const int fd = accept(listener, nullptr, nullptr);
      std::string req;
      char buf[4096];
      ssize_t n;
      while (req.find("}") == std::string::npos && (n = recv(fd, buf, sizeof(buf), 0)) > 0) req.append(buf, n);
      bodies.push_back(req.substr(req.find("\r\n\r\n") + 4));
      const char ok[] = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";
      send(fd, ok, sizeof(ok) - 1, MSG_NOSIGNAL);
      close(fd);
    }
  });
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/hooks/fraud";
  auto sink = WebhookAlertSink::Create(url, {});
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  (*sink)->Publish("{\"id\":\"a\"}");
  (*sink)->Publish("{\"id\":\"b\"}");
  ASSERT_TRUE(WaitFor([&] { return (*sink)->stats().published == 2; }));
  receiver.join();
  close(listener);
  EXPECT_EQ(bodies, (std::vector<std::string>{"{\"id\":\"a\"}", "{\"id\":\"b\"}"}));
  (*sink)->Publish("{\"id\":\"c\"}");  // nobody listens any more
  EXPECT_TRUE(WaitFor([&] { return (*sink)->stats().failed == 1; }));
  EXPECT_EQ(WebhookAlertSink::Create("ftp://x", {}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hotpath
