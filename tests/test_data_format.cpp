// The pipeline's small building blocks: SHA-256, the Brown detagger, the text readers' document
// units, the manifest round trip and its one-line JSON errors.
#include <doctest/doctest.h>

#include "common/errors.h"

#include "runner/data/manifest.h"
#include "runner/data/readers.h"
#include "runner/data/sha256.h"
#include "test_data_util.h"

using namespace sharelab::data;
using namespace sharelab::data::testing;

TEST_CASE("sha256 matches FIPS 180-4 examples") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex(std::string(1000, 'a')) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

TEST_CASE("brown detagging gives readable prose") {
  CHECK(brown_detag("\tThe/at Fulton/np-tl County/nn-tl said/vbd ``/`` no/at evidence/nn ''/'' ./.") ==
        "The Fulton County said \"no evidence\".");
  CHECK(brown_detag("It/pps was/bedz n't/* (/( so/ql )/) ,/, he/pps said/vbd") == "It wasn't (so), he said");
}

TEST_CASE("text readers: document units") {
  TempDir tmp;
  write_text(tmp / "a.txt", "para one\n\npara two\nline\n\npara three\n");
  std::vector<Document> docs;
  read_documents("text", tmp / "a.txt", [&](const Document& d) { docs.push_back(d); });
  REQUIRE(docs.size() == 1);
  CHECK(docs[0].id == "a.txt");
  CHECK(docs[0].text == "para one\n\npara two\nline\n\npara three\n");
  docs.clear();
  read_documents(
      "text", tmp / "a.txt", [&](const Document& d) { docs.push_back(d); }, 5);  // cut at blank lines
  REQUIRE(docs.size() == 3);
  CHECK(docs[1].id == "a.txt#1");
  CHECK(docs[1].text == "\npara two\nline\n");
  write_text(tmp / "b.jsonl", "{\"text\": \"x y\"}\n\n{\"text\": \"z\"}\n");
  docs.clear();
  read_documents("jsonl-text", tmp / "b.jsonl", [&](const Document& d) { docs.push_back(d); });
  REQUIRE(docs.size() == 2);
  CHECK(docs[1].id == "b.jsonl:3");
  CHECK(docs[1].text == "z");
}

TEST_CASE("manifest round trip") {
  Manifest m;
  m.seq_len = 2048;
  m.vocab_size = 32000;
  m.dtype = dtype_for_vocab(32000);
  m.tokenizer_sha256 = "ab";
  m.tokenizer_file = "tokenizer.model";
  m.bos_id = 1, m.eos_id = 2;
  m.mix_sha256 = "cd";
  m.mix_file = "configs/data/default.toml";
  m.val_fraction = 0.02;
  SourceStats s;
  s.name = "brown \"tagged\"\t\r\x01";  // every kind of character a JSON string must escape
  s.reader = "brown-tagged";
  s.weight = 2.5;
  s.tokens[kTrain] = 123, s.tokens[kVal] = 4, s.rows[kTrain] = 3, s.docs[kVal] = 1, s.dropped[kTrain] = 9;
  m.sources.push_back(s);
  m.shards.push_back({"train-00000.h5", kTrain, 3});
  const Manifest r = Manifest::from_json(m.to_json(), "m.json");
  CHECK(r.to_json() == m.to_json());
  CHECK(r.sources[0].name == s.name);
  CHECK(r.sources[0].reader == s.reader);
  CHECK(r.sources[0].weight == 2.5);
  CHECK(r.total_tokens(kTrain) == 123);
  CHECK(dtype_for_vocab(65535) == "uint16");
  CHECK(dtype_for_vocab(65536) == "uint32");
}

TEST_CASE("manifest: bad JSON and a mistyped field are one-line errors naming file, line and field") {
  using sharelab::ConfigError;
  CHECK_THROWS_WITH_AS(Manifest::from_json("{\n  \"version\": 1,\n  }\n", "d/manifest.json"),
                       doctest::Contains("d/manifest.json:3: not valid JSON: syntax error while parsing object key"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(Manifest::from_json("{\"version\": 1.5}", "m.json"),
                       doctest::Contains("m.json: field 'version' must be an integer"), ConfigError);
  CHECK_THROWS_WITH_AS(Manifest::from_json("[]", "m.json"), doctest::Contains("m.json: expected a JSON object"),
                       ConfigError);
}

TEST_CASE("jsonl-text: a line that is not JSON, and one without text, name file and line") {
  using sharelab::ConfigError;
  TempDir tmp;
  write_text(tmp / "b.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"a\" \"b\"}\n");
  const auto ignore = [](const Document&) {};
  CHECK_THROWS_WITH_AS(read_documents("jsonl-text", tmp / "b.jsonl", ignore),
                       doctest::Contains("b.jsonl:2: not valid JSON at byte 16: syntax error while parsing object - "
                                         "unexpected string literal; expected '}'"),
                       ConfigError);
  write_text(tmp / "b.jsonl", "[1]\n");
  CHECK_THROWS_WITH_AS(read_documents("jsonl-text", tmp / "b.jsonl", ignore),
                       doctest::Contains("b.jsonl:1: field 'text' missing or not a string"), ConfigError);
}
