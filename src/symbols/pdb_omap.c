/*
 * Addresses: section:offset to RVA through the DBI section headers, and
 * OMAP translation between the image's layout and the layout the symbols
 * were written for (dbghelp OMAP structure: {rva, rvaTo}, sorted by rva).
 */
#include "symbols/pdb_internal.h"

#include "base/checked.h"
#include "base/cursor.h"

bool pdb_section_rva(const dt_pdb *pdb, uint16_t section, uint32_t offset, uint32_t *rva)
{
    if (section == 0 || section > pdb->section_count)
        return false;
    uint64_t sum = (uint64_t)pdb->sections[section - 1].virtual_address + offset;
    if (sum > UINT32_MAX)
        return false;
    *rva = (uint32_t)sum;
    return true;
}

uint16_t pdb_section_of(const dt_pdb *pdb, uint32_t rva)
{
    for (size_t i = 0; i < pdb->section_count; i++) {
        const pdb_section *s = &pdb->sections[i];
        if (rva >= s->virtual_address && rva - s->virtual_address < s->extent)
            return (uint16_t)(i + 1);
    }
    return 0;
}

/* The entry with the largest rva <= `rva` maps it to rvaTo + (rva - entry
 * rva); rvaTo 0 means the code was removed. */
bool pdb_omap_translate(const pdb_omap *omap, uint32_t rva, uint32_t *out)
{
    size_t lo = 0, hi = omap->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dt_le32(omap->entries + 8 * mid) <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    const uint8_t *e = omap->entries + 8 * (lo - 1);
    uint32_t to = dt_le32(e + 4);
    uint64_t mapped = (uint64_t)to + (rva - dt_le32(e));
    if (to == 0 || mapped > UINT32_MAX)
        return false;
    *out = (uint32_t)mapped;
    return true;
}
