/*
 * traces/sha256.h - SHA-256 (FIPS 180-4), for naming the KCore binary and
 * the scenario file a trace was recorded against. None of the project's
 * dependencies provides it; this is a plain, unoptimised implementation.
 */
#ifndef HYPSIM_SHA256_H
#define HYPSIM_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32
#define SHA256_HEX (2 * SHA256_BYTES + 1)   /* hex digits + NUL */

struct sha256_ctx {
    uint32_t h[8];
    uint64_t len;              /* bytes hashed so far */
    uint8_t buf[64];
    size_t nbuf;
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t n);
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_BYTES]);

/* One-shot digest of a buffer. */
void sha256(const void *data, size_t n, uint8_t out[SHA256_BYTES]);

/* Digest of a file's contents. Returns 0, or -1 with "PATH: reason" in err. */
int sha256_file(const char *path, uint8_t out[SHA256_BYTES], char *err, size_t errlen);

/* Lower-case hex of a digest into hex (SHA256_HEX bytes). */
void sha256_hex(const uint8_t d[SHA256_BYTES], char hex[SHA256_HEX]);

/* Parse 64 hex digits (either case). Returns 0, or -1 if s is not exactly
 * that. */
int sha256_parse_hex(const char *s, uint8_t out[SHA256_BYTES]);

#endif
