/*
 * Is this word a return address? Checks used when unwind data is missing,
 * after Breakpad's and rust-minidump's scanning rules, plus a call-site
 * check: the bytes before the address must decode as a CALL that ends there.
 */
#include "unwind/return_address.h"

#include <string.h>

enum { CALL_WINDOW = 8, PAGE_EXECUTE_ANY = 0xF0, MIN_ADDRESS = 0x1000 };

/* Length of an FF /2 instruction from its ModRM byte on (ModRM, SIB,
 * displacement), or 0 when the ModRM does not encode /2. */
static size_t ff2_operand_length(const uint8_t *modrm_at, size_t available)
{
    if (available < 1)
        return 0;
    uint8_t modrm = modrm_at[0];
    unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
    if (reg != 2)
        return 0;
    if (mod == 3)
        return 1;
    size_t length = 1;
    if (rm == 4) {
        if (available < 2)
            return 0;
        length += 1; /* SIB */
        if (mod == 0 && (modrm_at[1] & 7) == 5)
            return length + 4;
    } else if (mod == 0 && rm == 5) {
        return length + 4; /* RIP-relative disp32 */
    }
    return length + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

bool dt_ends_with_call(const uint8_t *bytes, size_t n)
{
    if (n >= 5 && bytes[n - 5] == 0xE8)
        return true;
    for (size_t length = 2; length <= 7 && length <= n; length++) {
        const uint8_t *p = bytes + n - length;
        size_t rest = length;
        if ((p[0] & 0xF0) == 0x40 && length >= 3) { /* REX prefix */
            p++;
            rest--;
        }
        if (p[0] == 0xFF && ff2_operand_length(p + 1, rest - 1) == rest - 1)
            return true;
    }
    return false;
}

static bool canonical(uint64_t address)
{
    return address <= 0x00007FFFFFFFFFFFull || address >= 0xFFFF800000000000ull;
}

/* The code bytes before `ip`: from the dump, else from the module's image.
 * Returns how many were read (0 when none). */
static size_t code_before(const dt_dump *dump, dt_image_set *images, const dt_module *module,
                          uint64_t ip, uint8_t out[CALL_WINDOW])
{
    if (dt_dump_read(dump, ip - CALL_WINDOW, out, CALL_WINDOW) == CALL_WINDOW)
        return CALL_WINDOW;
    const dt_image *image = module && images ? dt_image_set_get(images, module) : NULL;
    if (image && ip - module->base >= CALL_WINDOW &&
        dt_image_read(image, (uint32_t)(ip - module->base - CALL_WINDOW), out, CALL_WINDOW) ==
            CALL_WINDOW)
        return CALL_WINDOW;
    return 0;
}

/* Whether the byte before `ip` is code: an executable section of the
 * module's image, or executable memory per MemoryInfoList. Unknown counts
 * as code inside a module. */
static bool executable(const dt_dump *dump, dt_image_set *images, const dt_module *module,
                       uint64_t ip)
{
    const dt_image *image = module && images ? dt_image_set_get(images, module) : NULL;
    if (image)
        return dt_image_rva_is_executable(image, (uint32_t)(ip - 1 - module->base));
    const dt_memory_info *region = dt_dump_memory_info_at(dump, ip - 1);
    if (region)
        return (region->protect & PAGE_EXECUTE_ANY) != 0;
    return module != NULL;
}

/* The checks shared by both forms; `require_code` refuses an address whose
 * code bytes are nowhere (no call site can be verified). */
static bool plausible(const dt_dump *dump, dt_image_set *images, uint64_t ip, bool require_call,
                      bool require_code)
{
    if (ip < MIN_ADDRESS || !canonical(ip))
        return false;
    const dt_module *module = dt_dump_module_at(dump, ip - 1);
    if (!executable(dump, images, module, ip))
        return false;
    uint8_t code[CALL_WINDOW];
    size_t n = code_before(dump, images, module, ip, code);
    if (n == 0)
        return !require_code;
    return !require_call || dt_ends_with_call(code, n);
}

bool dt_plausible_return_address(const dt_dump *dump, dt_image_set *images, uint64_t ip,
                                 bool require_call)
{
    return plausible(dump, images, ip, require_call, false);
}

bool dt_plausible_return_address32(const dt_dump *dump, dt_image_set *images, uint64_t ip,
                                   bool require_code)
{
    return ip <= UINT32_MAX && plausible(dump, images, ip, true, require_code);
}
