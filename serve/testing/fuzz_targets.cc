#include "serve/testing/fuzz_targets.h"

#include <cmath>
#include <cstring>
#include <string_view>
#include <vector>

#include "serve/inference_service.h"
#include "serve/internal/http_parser.h"
#include "core/json_writer.h"
#include "serve/internal/kserve_codec.h"

namespace hotpath::serve_testing {
namespace {

using serve_internal::HttpParseLimits;
using serve_internal::HttpRequest;
using serve_internal::HttpRequestParser;

// One parsed request, or the error that ended the stream.
struct Parsed {
  std::string path, body;
  int error = 0;
  bool keep_alive = false;
  bool operator==(const Parsed&) const = default;
};

HttpParseLimits SmallLimits() {
  HttpParseLimits limits;
  limits.max_head_bytes = 512;
  limits.max_body_bytes = 1024;
  limits.max_headers = 16;
  return limits;
}

// Parses the whole stream as pipelined requests; `chunk` > 0 feeds it in
// pieces of 1..chunk bytes taken from the data itself.
std::vector<Parsed> ParseStream(std::string_view stream, size_t chunk) {
  std::vector<Parsed> out;
  HttpRequestParser parser(SmallLimits());
  size_t consumed = 0, available = chunk ? 0 : stream.size(), step = 0;
  while (true) {
    HttpRequest req;
    const auto o = parser.Parse(stream.substr(consumed, available - consumed), &req);
    if (o == HttpRequestParser::Outcome::kError) {
      out.push_back({"", "", parser.error_status(), false});
      return out;
    }
    if (o == HttpRequestParser::Outcome::kComplete) {
      out.push_back({std::string(req.path), std::string(req.body), 0, req.keep_alive});
      if (req.total_bytes == 0) {
        return out;  // would loop forever: an invariant break
      }
      consumed += req.total_bytes;
      parser.Reset();
      continue;
    }
    if (available == stream.size()) {
      return out;
    }
    const size_t piece = 1 + static_cast<unsigned char>(stream[step++ % stream.size()]) % chunk;
    available = std::min(stream.size(), available + piece);
  }
}

// Element i of a float tensor is NaN or infinite: JSON carries those as null,
// which decodes to NaN.
bool IsNonFiniteAt(const InferTensor& t, size_t i) {
  if (t.dtype == DType::kFp32) {
    return !std::isfinite(t.as<float>()[i]);
  }
  if (t.dtype == DType::kFp64) {
    return !std::isfinite(t.as<double>()[i]);
  }
  return false;
}

std::string SameTensor(const InferTensor& a, const InferTensor& b) {
  if (a.name != b.name || a.dtype != b.dtype || a.shape != b.shape) {
    return "name/dtype/shape changed";
  }
  if (a.data.size() != b.data.size()) {
    return "size changed";
  }
  const size_t width = DTypeSize(a.dtype);
  for (size_t i = 0; i < a.data.size() / width; ++i) {
    if (IsNonFiniteAt(a, i) && IsNonFiniteAt(b, i)) {
      continue;
    }
    if (std::memcmp(a.data.data() + i * width, b.data.data() + i * width, width) != 0) {
      return "value " + std::to_string(i) + " changed";
    }
  }
  return "";
}

// Encodes the decoded inputs with the response encoder (its "outputs" array
// has the request's tensor form), decodes that again and compares.
std::string RoundTrip(const InferRequest& decoded) {
  InferResponse as_response;
  for (const InferTensor& t : decoded.inputs) {
    InferTensor copy;
    copy.name = t.name;
    copy.dtype = t.dtype;
    copy.shape = t.shape;
    copy.data = t.data;
    as_response.outputs.push_back(std::move(copy));
  }
  std::string json;
  serve_internal::EncodeInferResponse(InferRequest(), as_response, {}, &json);
  const size_t at = json.find("\"outputs\":[");
  if (at == std::string::npos) {
    return "encoder wrote no outputs";
  }
  json.replace(at, 10, "\"inputs\":");
  InferRequest again;
  serve_internal::InferWireOptions wire;
  Status st = serve_internal::DecodeInferRequest(json, -1, &again, &wire);
  if (!st.ok()) {
    return "re-encoded request does not decode: " + st.message() + " in " + json;
  }
  if (again.inputs.size() != decoded.inputs.size()) {
    return "input count changed";
  }
  for (size_t i = 0; i < again.inputs.size(); ++i) {
    const std::string diff = SameTensor(decoded.inputs[i], again.inputs[i]);
    if (!diff.empty()) {
      return "inputs[" + std::to_string(i) + "]: " + diff + " in " + json;
    }
  }
  return "";
}

}  // namespace

std::string FuzzHttpParser(const uint8_t* data, size_t size) {
  const std::string_view stream(reinterpret_cast<const char*>(data), size);
  const std::vector<Parsed> whole = ParseStream(stream, 0);
  for (const Parsed& p : whole) {
    if (p.error == 0 && (p.path.empty() || p.path[0] != '/')) {
      return "path without '/'";
    }
    if (p.body.size() > SmallLimits().max_body_bytes) {
      return "body over the limit accepted";
    }
  }
  for (size_t chunk : {1, 7, 64}) {
    if (ParseStream(stream, chunk) != whole) {
      return "fed in pieces of up to " + std::to_string(chunk) + " bytes, the parse differs";
    }
  }
  return "";
}

std::string FuzzInferDecoder(const uint8_t* data, size_t size) {
  if (size == 0) {
    return "";
  }
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  // Byte 0: 0..127 = all JSON; else a JSON header length within the body.
  const int64_t json_bytes = data[0] < 128 ? -1 : static_cast<int64_t>(data[0] - 128) % (size);
  InferRequest request;
  serve_internal::InferWireOptions wire;
  Status st = serve_internal::DecodeInferRequest(body, json_bytes, &request, &wire);
  if (!st.ok()) {
    if (st.code() != StatusCode::kInvalidArgument || st.message().empty()) {
      return "error without INVALID_ARGUMENT and a message: " + st.ToString();
    }
    return "";
  }
  for (const InferTensor& t : request.inputs) {
    if (t.data.size() != static_cast<size_t>(NumElements(t.shape)) * DTypeSize(t.dtype)) {
      return "tensor '" + t.name + "' bytes do not match its shape";
    }
  }
  return RoundTrip(request);
}

}  // namespace hotpath::serve_testing
