#include <zlib.h>
// deflateInit2/inflateInit2 are macros Swift cannot call.
static inline int czlib_deflate_init_gzip(z_streamp s, int level) {
    return deflateInit2(s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
// 15 + 32: accept gzip or zlib headers.
static inline int czlib_inflate_init_auto(z_streamp s) { return inflateInit2(s, 15 + 32); }
