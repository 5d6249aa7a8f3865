#!/usr/bin/env python3
"""An independent KServe v2 gRPC client for hotpath's tests.

Uses Debian's python3-grpcio and the Python messages protoc generated from
the same public .proto; no hotpath code. Runs a fixed script of calls against
a server and prints one JSON object with what came back:

  kserve_grpc_client.py PY_DIR PORT MODEL ROWS_JSON
"""
import json
import struct
import sys

import grpc


def main():
    py_dir, port, model, rows_path = sys.argv[1:5]
    sys.path.insert(0, py_dir)
    import grpc_predict_v2_pb2 as pb

    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    svc = "/inference.GRPCInferenceService/"

    def call(name, request, response_type, timeout=10):
        rpc = channel.unary_unary(svc + name,
                                  request_serializer=lambda m: m.SerializeToString(),
                                  response_deserializer=response_type.FromString)
        try:
            return rpc(request, timeout=timeout), "OK"
        except grpc.RpcError as e:
            return None, e.code().name + ": " + e.details()

    out = {}
    r, _ = call("ServerLive", pb.ServerLiveRequest(), pb.ServerLiveResponse)
    out["live"] = r.live
    r, _ = call("ServerReady", pb.ServerReadyRequest(), pb.ServerReadyResponse)
    out["ready"] = r.ready
    r, _ = call("ModelReady", pb.ModelReadyRequest(name=model), pb.ModelReadyResponse)
    out["model_ready"] = r.ready
    r, _ = call("ServerMetadata", pb.ServerMetadataRequest(), pb.ServerMetadataResponse)
    out["server_name"] = r.name
    r, _ = call("ModelMetadata", pb.ModelMetadataRequest(name=model), pb.ModelMetadataResponse)
    out["inputs"] = [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in r.inputs]
    out["outputs"] = [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in r.outputs]

    rows = json.load(open(rows_path))
    width = len(rows[0])
    flat = [v for row in rows for v in row]

    def infer_request(raw, model_name=model, shape=None, contents=None):
        req = pb.ModelInferRequest(model_name=model_name, id="req-1")
        t = req.inputs.add(name=out["inputs"][0]["name"], datatype="FP32")
        t.shape.extend(shape or [len(rows), width])
        if raw:
            req.raw_input_contents.append(struct.pack("<%df" % len(flat), *flat))
        else:
            t.contents.fp32_contents.extend(contents if contents is not None else flat)
        return req

    for mode in ("raw", "contents"):
        r, status = call("ModelInfer", infer_request(mode == "raw"), pb.ModelInferResponse)
        entry = {"status": status}
        if r is not None:
            o = r.outputs[0]
            data = r.raw_output_contents[0]
            entry.update(id=r.id, name=o.name, datatype=o.datatype, shape=list(o.shape),
                         values=list(struct.unpack("<%df" % (len(data) // 4), data)))
        out["infer_" + mode] = entry

    errors = {}
    _, errors["unknown_model"] = call("ModelInfer", infer_request(True, model_name="nope"), pb.ModelInferResponse)
    _, errors["short_contents"] = call("ModelInfer", infer_request(False, contents=flat[:-1]), pb.ModelInferResponse)
    _, errors["wrong_width"] = call("ModelInfer", infer_request(False, shape=[len(flat)], contents=flat), pb.ModelInferResponse)
    _, errors["unknown_model_ready"] = call("ModelReady", pb.ModelReadyRequest(name="nope"), pb.ModelReadyResponse)
    _, errors["repository_index"] = call("RepositoryIndex", pb.RepositoryIndexRequest(), pb.RepositoryIndexResponse)
    out["errors"] = errors
    print(json.dumps(out))


if __name__ == "__main__":
    main()
