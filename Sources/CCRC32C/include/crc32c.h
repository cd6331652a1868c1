#ifndef ODRADEK_CRC32C_H
#define ODRADEK_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/// CRC-32C (Castagnoli), as Kafka's record batch v2 uses it. `crc` is the running value (0 to start).
/// Uses the SSE4.2 crc32 instruction when the CPU has it, a slicing-by-8 table otherwise; the choice
/// is made once, at the first call.
uint32_t odradek_crc32c(uint32_t crc, const void *data, size_t length);

/// The portable table implementation, exposed so tests can check both paths agree.
uint32_t odradek_crc32c_software(uint32_t crc, const void *data, size_t length);

/// 1 when the hardware path is in use.
int odradek_crc32c_uses_hardware(void);
#endif
