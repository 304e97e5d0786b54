/* ModuleList (with CodeView and VS_FIXEDFILEINFO) and UnloadedModuleList. */
#include "dump/dump_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/text.h"

enum { MODULE_SIZE = 0x6C, UNLOADED_MIN = 24, FIXED_FILE_INFO_SIGNATURE = 0xFEEF04BD,
       CV_RSDS = 0x53445352, CV_NB10 = 0x3031424E,
       CV_ELF_BUILD_ID = 0x4270454C /* "BpEL": Breakpad's ELF build id */, MAX_CV_RECORD = 4096 };

static const char *bounded_utf8(dt_dump *d, const uint8_t *p, size_t n, uint32_t rva)
{
    size_t len = 0;
    while (len < n && p[len])
        len++;
    if (!dt_dump_spend_string_budget(d, len, "CodeView record", rva))
        return "";
    return dt_arena_strndup(&d->arena, (const char *)p, len);
}

/* CodeView record: RSDS {Signature, GUID 4, Age 20, PdbFileName 24} or
 * NB10 {Signature, Offset 4, TimeStamp 8, Age 12, PdbFileName 16}. */
static void decode_codeview(dt_dump *d, uint32_t size, uint32_t rva, const char *structure,
                            dt_codeview *cv)
{
    const uint8_t *p;
    if (size == 0)
        return;
    if (size > MAX_CV_RECORD || !dt_dump_file_span(d, rva, size, &p) || size < 16) {
        dt_dump_diag(d, DT_DIAG_WARNING, structure, rva,
                     "CodeView record of %u bytes is unreadable", size);
        return;
    }
    uint32_t signature = dt_le32(p);
    if (signature == CV_RSDS && size >= 24) {
        cv->kind = DT_CV_RSDS;
        memcpy(cv->guid, p + 4, 16);
        cv->age = dt_le32(p + 20);
        cv->pdb_path = bounded_utf8(d, p + 24, size - 24, rva);
    } else if (signature == CV_NB10) {
        cv->kind = DT_CV_NB10;
        cv->signature = dt_le32(p + 8);
        cv->age = dt_le32(p + 12);
        cv->pdb_path = bounded_utf8(d, p + 16, size - 16, rva);
    } else if (signature != CV_ELF_BUILD_ID) {
        dt_dump_diag(d, DT_DIAG_INFO, structure, rva,
                     "CodeView record with signature 0x%08x is not RSDS or NB10", signature);
    }
}

/* MINIDUMP_MODULE: BaseOfImage 0, SizeOfImage 8, CheckSum 0xC, TimeDateStamp 0x10,
 * ModuleNameRva 0x14, VersionInfo 0x18 (VS_FIXEDFILEINFO: dwSignature 0x18,
 * dwFileVersionMS 0x20, dwFileVersionLS 0x24), CvRecord {0x4C, 0x50}. */
static void decode_module(dt_stream_reader *r, const uint8_t *p, size_t index, dt_module *m)
{
    dt_dump *d = r->dump;
    char structure[64];
    snprintf(structure, sizeof structure, "ModuleList entry %zu", index);
    m->base = dt_le64(p);
    m->size = dt_le32(p + 8);
    m->checksum = dt_le32(p + 0xC);
    m->timestamp = dt_le32(p + 0x10);
    const char *path = dt_dump_string_at(d, dt_le32(p + 0x14), structure);
    m->path = path ? path : "";
    m->name = dt_path_basename(m->path);
    if (dt_le32(p + 0x18) == FIXED_FILE_INFO_SIGNATURE) {
        uint32_t ms = dt_le32(p + 0x20), ls = dt_le32(p + 0x24);
        m->has_version = true;
        m->version[0] = (uint16_t)(ms >> 16);
        m->version[1] = (uint16_t)ms;
        m->version[2] = (uint16_t)(ls >> 16);
        m->version[3] = (uint16_t)ls;
    }
    decode_codeview(d, dt_le32(p + 0x4C), dt_le32(p + 0x50), structure, &m->codeview);
}

void dt_decode_module_list(dt_stream_reader *r)
{
    dt_dump *d = r->dump;
    size_t first;
    size_t count = dt_list_entries(r, MODULE_SIZE, DT_MAX_MODULES, &first);
    d->modules = dt_arena_array(&d->arena, count ? count : 1, sizeof *d->modules);
    if (!d->modules)
        return;
    for (size_t i = 0; i < count; i++)
        decode_module(r, r->bytes + first + i * MODULE_SIZE, i, &d->modules[i]);
    d->module_count = count;
}

/* MINIDUMP_UNLOADED_MODULE: BaseOfImage 0, SizeOfImage 8, CheckSum 0xC,
 * TimeDateStamp 0x10, ModuleNameRva 0x14. */
void dt_decode_unloaded_module_list(dt_stream_reader *r)
{
    dt_dump *d = r->dump;
    size_t first, entry_size;
    size_t count = dt_sized_entries(r, false, UNLOADED_MIN, DT_MAX_MODULES, &first, &entry_size);
    d->unloaded = dt_arena_array(&d->arena, count ? count : 1, sizeof *d->unloaded);
    if (!d->unloaded)
        return;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *p = r->bytes + first + i * entry_size;
        dt_unloaded_module *m = &d->unloaded[i];
        m->base = dt_le64(p);
        m->size = dt_le32(p + 8);
        m->checksum = dt_le32(p + 0xC);
        m->timestamp = dt_le32(p + 0x10);
        const char *name = dt_dump_string_at(d, dt_le32(p + 0x14), "UnloadedModuleList entry");
        m->name = name ? name : "";
    }
    d->unloaded_count = count;
}
