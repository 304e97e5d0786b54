/* Return-address validation for the frame-pointer and scanning fallbacks. */
#ifndef DT_UNWIND_RETURN_ADDRESS_H
#define DT_UNWIND_RETURN_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dumptriage/dump.h"
#include "dumptriage/image.h"

typedef struct dt_image_set dt_image_set;

/* True when `bytes[0..n)`, the code just before a return address, ends with
 * a CALL instruction: E8 rel32, or FF /2 (call r/m64) with any ModRM, SIB
 * and displacement form and an optional REX prefix. */
bool dt_ends_with_call(const uint8_t *bytes, size_t n);

/* True when `ip` can be a return address: canonical, above the first page,
 * in a module's executable section or in executable memory, and just after
 * a CALL instruction whenever the code bytes before it are available (from
 * the dump, else from the module image). */
bool dt_plausible_return_address(const dt_dump *dump, dt_image_set *images, uint64_t ip,
                                 bool require_call);

/* The same for a 32-bit (x86 or WOW64) return address: below 4 GiB, and
 * just after a CALL whenever the code bytes exist; with `require_code`, an
 * address whose code bytes are in neither the dump nor an image is refused
 * (stack scanning must verify the call site). `E8 rel32` and `FF /2` decode
 * the same way in 32-bit code (no REX prefix; mod 00 r/m 101 is disp32). */
bool dt_plausible_return_address32(const dt_dump *dump, dt_image_set *images, uint64_t ip,
                                   bool require_code);

#endif
