// The plain C API of libsharelab_spm.so, the only binary that links SentencePiece (see
// tokenizer.h for why). Loaded with dlopen by spm_library.cpp; every function is looked up by
// name, so this header is the whole contract. Buffers returned by the library are freed with
// slspm_free_buf. Errors: functions return 0 / nullptr and write a message into `err`.
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SLSPM_API_VERSION 1

extern "C" {
int slspm_api_version(void);
void* slspm_load(const char* path, char* err, size_t err_len);
void slspm_close(void* h);
int slspm_encode(void* h, const char* text, size_t len, int32_t** ids, size_t* n, char* err, size_t err_len);
int slspm_decode(void* h, const int32_t* ids, size_t n, char** text, size_t* len, char* err, size_t err_len);
int slspm_id_to_piece(void* h, int32_t id, char** piece, size_t* len);
int32_t slspm_piece_size(void* h);
int32_t slspm_bos_id(void* h);
int32_t slspm_eos_id(void* h);
int32_t slspm_unk_id(void* h);
void slspm_free_buf(void* p);
}
