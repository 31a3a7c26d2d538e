/* CRC-32 (zlib's polynomial and conventions: pond_pq_crc32(0, p, n) == crc32(0, p, n)). */
#ifndef POND_PQ_CRC_H
#define POND_PQ_CRC_H

#include <stddef.h>
#include <stdint.h>

/* Hardware-accelerated where the CPU allows (x86-64 PCLMULQDQ), zlib otherwise. */
uint32_t pond_pq_crc32(uint32_t crc, const uint8_t *p, size_t len);
/* zlib only (the reference for tests). */
uint32_t pond_pq_crc32_portable(uint32_t crc, const uint8_t *p, size_t len);

#endif
