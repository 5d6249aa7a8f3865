#include "bench/serve/grpc_load.h"

#include <grpcpp/grpcpp.h>

#include <memory>

#include "serve/grpc/grpc_predict_v2.grpc.pb.h"

namespace hotpath::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Slot {
  std::unique_ptr<grpc::ClientContext> ctx;
  inference::ModelInferResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<inference::ModelInferResponse>> reader;
  Clock::time_point start;
};

}  // namespace

Result<GrpcLoadResult> RunGrpcClosedLoop(const GrpcLoadOptions& o) {
  if (o.features < 1 || o.rows.empty() || o.rows.size() % o.features != 0 || o.concurrency < 1) {
    return InvalidArgumentError("grpc load: need features >= 1, whole rows and concurrency >= 1");
  }
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(o.port), grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5))) {
    return UnavailableError("grpc load: cannot connect to 127.0.0.1:" + std::to_string(o.port));
  }
  auto stub = inference::GRPCInferenceService::NewStub(channel);
  std::vector<inference::ModelInferRequest> requests(o.rows.size() / o.features);
  for (size_t r = 0; r < requests.size(); ++r) {
    inference::ModelInferRequest& q = requests[r];
    q.set_model_name(o.model);
    auto* in = q.add_inputs();
    in->set_name(o.input_name);
    in->set_datatype("FP32");
    in->add_shape(1);
    in->add_shape(o.features);
    q.add_raw_input_contents(reinterpret_cast<const char*>(&o.rows[r * o.features]),
                             o.features * sizeof(float));
  }
  grpc::CompletionQueue cq;
  std::vector<Slot> slots(o.concurrency);
  size_t next = 0;
  auto send = [&](Slot* s) {
    s->ctx = std::make_unique<grpc::ClientContext>();
    s->start = Clock::now();
    s->reader = stub->AsyncModelInfer(s->ctx.get(), requests[next++ % requests.size()], &cq);
    s->reader->Finish(&s->response, &s->status, s);
  };
  const Clock::time_point begin = Clock::now(), measure = begin + o.warmup, end = measure + o.duration;
  for (Slot& s : slots) send(&s);
  GrpcLoadResult result;
  int in_flight = o.concurrency;
  void* tag = nullptr;
  bool ok = false;
  while (in_flight > 0 && cq.Next(&tag, &ok)) {
    Slot* s = static_cast<Slot*>(tag);
    const Clock::time_point now = Clock::now();
    if (s->start >= measure && s->start < end) {
      if (ok && s->status.ok()) {
        ++result.ok;
        result.latency.Record(static_cast<uint64_t>((now - s->start).count()));
      } else {
        ++result.failed;
      }
    }
    if (now < end) {
      send(s);
    } else {
      --in_flight;
    }
  }
  result.seconds = std::chrono::duration<double>(o.duration).count();
  return result;
}

}  // namespace hotpath::bench
