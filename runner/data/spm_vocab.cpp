// A minimal protobuf walk over sentencepiece_model.proto: ModelProto.pieces (1), trainer_spec (2),
// normalizer_spec (3). Unknown fields are skipped by wire type, as protobuf itself does.
#include "runner/data/spm_vocab.h"

#include <cstring>
#include <fstream>
#include <iterator>

#include "common/errors.h"

namespace sharelab::data {

namespace {

struct Reader {
  const unsigned char* p;
  const unsigned char* end;
  const std::string& file;

  [[noreturn]] void fail(const std::string& what) const {
    throw ConfigError(file + ": not a SentencePiece model (" + what + ")");
  }
  bool done() const { return p >= end; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) fail("truncated varint");
      const unsigned char b = *p++;
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("varint longer than 10 bytes");
  }
  Reader sub() {  // a length-delimited field's bytes
    const uint64_t n = varint();
    if (n > uint64_t(end - p)) fail("field length past the end of the file");
    Reader r{p, p + n, file};
    p += n;
    return r;
  }
  float fixed32() {
    if (end - p < 4) fail("truncated fixed32");
    uint32_t u = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
    p += 4;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  void skip(int wire) {
    switch (wire) {
      case 0: varint(); break;
      case 1: if (end - p < 8) fail("truncated fixed64"); p += 8; break;
      case 2: sub(); break;
      case 5: if (end - p < 4) fail("truncated fixed32"); p += 4; break;
      default: fail("wire type " + std::to_string(wire));
    }
  }
};

SpmPiece read_piece(Reader r) {
  SpmPiece piece;
  while (!r.done()) {
    const uint64_t key = r.varint();
    const int field = int(key >> 3), wire = int(key & 7);
    if (field == 1 && wire == 2) {
      Reader s = r.sub();
      piece.piece.assign(reinterpret_cast<const char*>(s.p), size_t(s.end - s.p));
    } else if (field == 2 && wire == 5) {
      piece.score = r.fixed32();
    } else if (field == 3 && wire == 0) {
      const uint64_t t = r.varint();
      if (t < 1 || t > 6) r.fail("piece type " + std::to_string(t));
      piece.type = SpmPieceType(t);
    } else {
      r.skip(wire);
    }
  }
  return piece;
}

void read_trainer(Reader r, SpmVocab& v) {
  while (!r.done()) {
    const uint64_t key = r.varint();
    const int field = int(key >> 3), wire = int(key & 7);
    if (wire != 0) {
      r.skip(wire);
      continue;
    }
    const uint64_t x = r.varint();
    switch (field) {
      case 3:
        if (x < 1 || x > 4) r.fail("model_type " + std::to_string(x));
        v.model_type = SpmVocab::ModelType(x);
        break;
      case 35: v.byte_fallback = x != 0; break;
      case 40: v.unk_id = int32_t(x); break;
      case 41: v.bos_id = int32_t(x); break;  // int32 -1 arrives as a 64-bit two's complement varint
      case 42: v.eos_id = int32_t(x); break;
      case 43: v.pad_id = int32_t(x); break;
      default: break;
    }
  }
}

void read_normalizer(Reader r, SpmVocab& v) {
  while (!r.done()) {
    const uint64_t key = r.varint();
    const int field = int(key >> 3), wire = int(key & 7);
    if (field == 1 && wire == 2) {
      Reader s = r.sub();
      v.normalizer.assign(reinterpret_cast<const char*>(s.p), size_t(s.end - s.p));
    } else if (field == 2 && wire == 2) {
      const Reader s = r.sub();
      v.has_charsmap = s.end > s.p;
    } else if (wire == 0 && (field == 3 || field == 4 || field == 5)) {
      const bool b = r.varint() != 0;
      (field == 3 ? v.add_dummy_prefix : field == 4 ? v.remove_extra_whitespaces : v.escape_whitespaces) = b;
    } else {
      r.skip(wire);
    }
  }
}

}  // namespace

const char* SpmVocab::model_type_name() const {
  switch (model_type) {
    case ModelType::kUnigram: return "unigram";
    case ModelType::kBpe: return "bpe";
    case ModelType::kWord: return "word";
    case ModelType::kChar: return "char";
  }
  return "?";
}

SpmVocab read_spm_vocab(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": tokenizer model not found");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  Reader r{b, b + bytes.size(), path};
  SpmVocab v;
  bool normalizer_seen = false;
  while (!r.done()) {
    const uint64_t key = r.varint();
    const int field = int(key >> 3), wire = int(key & 7);
    if (field == 1 && wire == 2) v.pieces.push_back(read_piece(r.sub()));
    else if (field == 2 && wire == 2) read_trainer(r.sub(), v);
    else if (field == 3 && wire == 2) read_normalizer(r.sub(), v), normalizer_seen = true;
    else r.skip(wire);
  }
  if (v.pieces.empty()) r.fail("no pieces");
  if (!normalizer_seen) r.fail("no normalizer_spec");
  const int32_t n = int32_t(v.pieces.size());
  for (int32_t id : {v.unk_id, v.bos_id, v.eos_id, v.pad_id})
    if (id < -1 || id >= n) r.fail("special token id " + std::to_string(id) + " outside the " + std::to_string(n) + " pieces");
  return v;
}

}  // namespace sharelab::data
