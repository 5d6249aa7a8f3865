#include "cli/internal/row_reader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

namespace hotpath::cli {
namespace {

Result<std::vector<float>> ReadAll(const std::string& text, RowReader::Format f, size_t width) {
  std::istringstream in(text);
  RowReader reader(&in, f, width);
  std::vector<float> rows;
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, reader.Read(2, &rows));
    if (n == 0) break;
  }
  return rows;
}

TEST(RowReaderTest, CsvWithHeaderAndMissing) {
  auto rows = ReadAll("a,b,c\n1,,3.5\n\n-2e3, 4 ,\n", RowReader::Format::kCsv, 3);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 6u);
  EXPECT_EQ((*rows)[0], 1.0f);
  EXPECT_TRUE(std::isnan((*rows)[1]));
  EXPECT_EQ((*rows)[2], 3.5f);
  EXPECT_EQ((*rows)[3], -2000.0f);
  EXPECT_EQ((*rows)[4], 4.0f);
  EXPECT_TRUE(std::isnan((*rows)[5]));
}

TEST(RowReaderTest, CsvErrorsNameLineAndColumn) {
  auto bad = ReadAll("1,2\n3,x\n", RowReader::Format::kCsv, 2);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "line 2, column 2: 'x' is not a number");
  auto wide = ReadAll("1,2,3\n", RowReader::Format::kCsv, 2);
  EXPECT_EQ(wide.status().message(), "line 1: 3 fields, the model takes 2");
}

TEST(RowReaderTest, JsonLines) {
  auto rows = ReadAll("[1, null, 2.5]\n{\"features\": [0, 1, -1]}\n", RowReader::Format::kJsonLines, 3);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 6u);
  EXPECT_TRUE(std::isnan((*rows)[1]));
  EXPECT_EQ((*rows)[5], -1.0f);
  EXPECT_EQ(ReadAll("[1, \"a\", 2]\n", RowReader::Format::kJsonLines, 3).status().message(),
            "line 1, element 1: \"a\" is not a number or null");
  EXPECT_EQ(ReadAll("[1, 2\n", RowReader::Format::kJsonLines, 3).status().message(),
            "line 1: not valid JSON");
}

TEST(RowReaderTest, FormatFromExtension) {
  EXPECT_EQ(RowReader::FormatForPath("x.jsonl"), RowReader::Format::kJsonLines);
  EXPECT_EQ(RowReader::FormatForPath("x.csv"), RowReader::Format::kCsv);
}

// Garbage never crashes the reader: each input ends in rows or an error.
TEST(RowReaderTest, FuzzedInputNeverCrashes) {
  std::mt19937_64 rng(1);
  const std::string alphabet = "0123456789.,-+eE \n[]{}\"nulNaNinf\t\r";
  for (int i = 0; i < 3000; ++i) {
    std::string s(rng() % 64, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    for (auto f : {RowReader::Format::kCsv, RowReader::Format::kJsonLines}) {
      auto r = ReadAll(s, f, 1 + rng() % 4);
      if (r.ok()) {
        EXPECT_EQ(r->size() % 1, 0u);
      } else {
        EXPECT_NE(r.status().message().find("line"), std::string::npos);
      }
    }
  }
}

}  // namespace
}  // namespace hotpath::cli
