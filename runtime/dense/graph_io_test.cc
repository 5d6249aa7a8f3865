#include "runtime/dense/graph_io.h"

#include <gtest/gtest.h>

#include <random>

#include "runtime/dense/dense_model.h"

namespace hotpath::dense {
namespace {

TEST(GraphIoTest, RoundTripKeepsEveryField) {
  Graph g;
  g.widths = {3, 2, 2, 4};
  Node d;
  d.kind = OpKind::kQuantDense;
  d.name = "q";
  d.inputs = {0};
  d.output = 1;
  d.qweights = {1, -2, 3, -4, 5, 127};
  d.weight_scale = {0.5f, 0.25f};
  d.bias = {1, 2};
  d.input_scale = 0.1f;
  d.act = {Activation::kLeakyRelu, 0.3f, 0};
  Node a;
  a.kind = OpKind::kAffine;
  a.inputs = {1};
  a.output = 2;
  a.scale = {2, 3};
  a.shift = {-1, 1};
  Node c;
  c.kind = OpKind::kConcat;
  c.inputs = {1, 2};
  c.output = 3;
  g.nodes = {d, a, c};
  g.output = 3;
  auto back = ParseGraph(SerializeGraph(g));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(SerializeGraph(*back), SerializeGraph(g));
  EXPECT_EQ(back->nodes[0].qweights, d.qweights);
  EXPECT_EQ(back->nodes[0].act.alpha, 0.3f);
  std::string bad = SerializeGraph(g);
  bad.resize(bad.size() - 3);
  EXPECT_NE(ParseGraph(bad).status().message().find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace hotpath::dense
