#include "crc32c.h"
#include <string.h>

#define POLY 0x82F63B78u  // CRC-32C, reflected

static uint32_t table[8][256];
static int table_ready = 0;

static void build_table(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = table[0][n];
        for (int k = 1; k < 8; k++) {
            c = table[0][c & 0xff] ^ (c >> 8);
            table[k][n] = c;
        }
    }
    __atomic_store_n(&table_ready, 1, __ATOMIC_RELEASE);
}

uint32_t odradek_crc32c_software(uint32_t crc, const void *data, size_t length) {
    if (!__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE)) build_table();  // idempotent if raced
    const unsigned char *p = data;
    crc = ~crc;
    while (length && ((uintptr_t)p & 7)) { crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8); length--; }
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        word ^= crc;
        crc = table[7][word & 0xff] ^ table[6][(word >> 8) & 0xff] ^ table[5][(word >> 16) & 0xff] ^
              table[4][(word >> 24) & 0xff] ^ table[3][(word >> 32) & 0xff] ^ table[2][(word >> 40) & 0xff] ^
              table[1][(word >> 48) & 0xff] ^ table[0][word >> 56];
        p += 8;
        length -= 8;
    }
    while (length--) crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const void *data, size_t length) {
    const unsigned char *p = data;
    uint64_t c = ~crc;
    while (length && ((uintptr_t)p & 7)) { c = _mm_crc32_u8((uint32_t)c, *p++); length--; }
    // Four independent words per loop iteration keep the unit busy while each crc32 waits on the last.
    while (length >= 32) {
        uint64_t w0, w1, w2, w3;
        memcpy(&w0, p, 8); memcpy(&w1, p + 8, 8); memcpy(&w2, p + 16, 8); memcpy(&w3, p + 24, 8);
        c = _mm_crc32_u64(c, w0);
        c = _mm_crc32_u64(c, w1);
        c = _mm_crc32_u64(c, w2);
        c = _mm_crc32_u64(c, w3);
        p += 32;
        length -= 32;
    }
    while (length >= 8) { uint64_t w; memcpy(&w, p, 8); c = _mm_crc32_u64(c, w); p += 8; length -= 8; }
    while (length--) c = _mm_crc32_u8((uint32_t)c, *p++);
    return ~(uint32_t)c;
}

static int hardware_checked = 0;
static int hardware_available = 0;

int odradek_crc32c_uses_hardware(void) {
    if (!__atomic_load_n(&hardware_checked, __ATOMIC_ACQUIRE)) {
        __builtin_cpu_init();
        __atomic_store_n(&hardware_available, __builtin_cpu_supports("sse4.2") ? 1 : 0, __ATOMIC_RELAXED);
        __atomic_store_n(&hardware_checked, 1, __ATOMIC_RELEASE);
    }
    return __atomic_load_n(&hardware_available, __ATOMIC_RELAXED);
}

uint32_t odradek_crc32c(uint32_t crc, const void *data, size_t length) {
    if (odradek_crc32c_uses_hardware()) return crc32c_sse42(crc, data, length);
    return odradek_crc32c_software(crc, data, length);
}
#else
int odradek_crc32c_uses_hardware(void) { return 0; }
uint32_t odradek_crc32c(uint32_t crc, const void *data, size_t length) {
    return odradek_crc32c_software(crc, data, length);
}
#endif
