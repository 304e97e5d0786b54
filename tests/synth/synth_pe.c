/* synth_pe: PE32+ image writer (pe-format: DOS/COFF/optional headers,
 * sections, export/exception/debug/IAT directories). */
#include "synth_pe.h"
#include "synth_win.h"

#include <stdlib.h>
#include <string.h>

enum {
    SECTION_ALIGN = 0x1000,
    FILE_ALIGN = 0x200,
    DOS_HEADER_END = 0x80,      /* e_lfanew: DOS header (0x40) + stub (0x40) */
    COFF_HEADER_SIZE = 20,
    OPTIONAL_HEADER_64 = 0xF0,  /* PE32+ with 16 data directories */
    OPTIONAL_HEADER_32 = 0xE0,  /* PE32 with 16 data directories */
    SECTION_HEADER_SIZE = 40,
    EXPORT_DIRECTORY_SIZE = 40,
    DEBUG_DIRECTORY_SIZE = 28,
    RUNTIME_FUNCTION_SIZE = 12,
    MACHINE_AMD64 = 0x8664, MACHINE_I386 = 0x14C,
    MAX_SECTIONS = 5,
    DIR_EXPORT = 0, DIR_EXCEPTION = 3, DIR_DEBUG = 6, DIR_IAT = 12,
    SCN_CODE = 0x60000020,      /* CNT_CODE | MEM_EXECUTE | MEM_READ */
    SCN_RDATA = 0x40000040,     /* CNT_INITIALIZED_DATA | MEM_READ */
    SCN_DISCARDABLE_DATA = 0x42000040
};

/* An extra export: a forwarder ("DLL.Function") or an alias of a function. */
typedef struct forwarder {
    char *name;
    char *target;        /* NULL for an alias */
    int function;        /* the aliased function */
    uint16_t ordinal;
} forwarder;

typedef struct section {
    char name[64];
    uint32_t characteristics;
    uint32_t rva;
    uint32_t file_offset;
    synth_buf data;            /* VirtualSize = data.size */
    uint32_t name_offset;      /* in the COFF string table, for long names */
} section;

struct synth_pe {
    synth_pe_options o;
    char *name;
    char *pdb_name;
    char *long_section_name;
    synth_text *text;
    forwarder *forwarders;
    size_t forwarder_count;

    section sections[MAX_SECTIONS];
    size_t section_count;
    section *rdata;
    section *pdata;
    uint32_t slots_rva;
    uint32_t export_rva, export_size;
    uint32_t debug_rva;
    uint32_t size_of_headers;
    uint32_t size_of_image;
    uint32_t string_table_size;
    uint32_t checksum;
    bool laid_out;
};

static uint32_t align_up(uint32_t value, uint32_t alignment)
{
    return (value + alignment - 1) & ~(alignment - 1);
}

synth_pe *synth_pe_new(const synth_pe_options *options)
{
    synth_pe *pe = synth_alloc(sizeof *pe);
    pe->o = *options;
    pe->name = synth_strdup(options->name ? options->name : "synth.dll");
    pe->pdb_name = synth_strdup(options->codeview.pdb_name ? options->codeview.pdb_name : "");
    pe->long_section_name = options->long_section_name ? synth_strdup(options->long_section_name)
                                                       : NULL;
    pe->o.name = pe->name;
    pe->o.codeview.pdb_name = pe->pdb_name;
    pe->o.long_section_name = pe->long_section_name;
    pe->text = synth_text_new(options->machine);
    return pe;
}

void synth_pe_free(synth_pe *pe)
{
    if (!pe)
        return;
    for (size_t i = 0; i < pe->forwarder_count; i++) {
        free(pe->forwarders[i].name);
        free(pe->forwarders[i].target);
    }
    for (size_t i = 0; i < pe->section_count; i++)
        synth_buf_free(&pe->sections[i].data);
    free(pe->forwarders);
    synth_text_free(pe->text);
    free(pe->name);
    free(pe->pdb_name);
    free(pe->long_section_name);
    free(pe);
}

synth_text *synth_pe_text(synth_pe *pe) { return pe->text; }
const synth_text *synth_pe_text_const(const synth_pe *pe) { return pe->text; }
const char *synth_pe_name(const synth_pe *pe) { return pe->name; }
uint64_t synth_pe_base(const synth_pe *pe) { return pe->o.image_base; }
uint32_t synth_pe_checksum(const synth_pe *pe) { return pe->checksum; }
const synth_pe_options *synth_pe_get_options(const synth_pe *pe) { return &pe->o; }

static void require_layout(const synth_pe *pe)
{
    if (!pe->laid_out)
        synth_fail("image %s used before synth_pe_layout", pe->name);
}

uint32_t synth_pe_size_of_image(const synth_pe *pe)
{
    require_layout(pe);
    return pe->size_of_image;
}

int synth_pe_add_function(synth_pe *pe, const synth_function *f)
{
    return synth_text_add_function(pe->text, f);
}

void synth_pe_add_forwarder(synth_pe *pe, const char *export_name, const char *forward_to,
                            uint16_t ordinal)
{
    forwarder fw = {synth_strdup(export_name), synth_strdup(forward_to), -1, ordinal};
    pe->forwarders = synth_grow(pe->forwarders, pe->forwarder_count + 1, sizeof *pe->forwarders);
    pe->forwarders[pe->forwarder_count++] = fw;
}

void synth_pe_add_alias(synth_pe *pe, const char *export_name, int function, uint16_t ordinal)
{
    forwarder fw = {synth_strdup(export_name), NULL, function, ordinal};
    pe->forwarders = synth_grow(pe->forwarders, pe->forwarder_count + 1, sizeof *pe->forwarders);
    pe->forwarders[pe->forwarder_count++] = fw;
}

uint32_t synth_pe_function_rva(const synth_pe *pe, int function)
{
    return (uint32_t)(synth_text_function_address(pe->text, function) - pe->o.image_base);
}

/* ---- Sections ---------------------------------------------------------- */

/* The first free RVA after the sections so far (SizeOfImage at the end). */
static uint32_t next_rva(const synth_pe *pe)
{
    if (pe->section_count == 0)
        return SECTION_ALIGN;
    const section *last = &pe->sections[pe->section_count - 1];
    return align_up(last->rva + (uint32_t)last->data.size, SECTION_ALIGN);
}

/* Appends a section at the next free RVA; its data is filled in next. */
static section *add_section(synth_pe *pe, const char *name, uint32_t characteristics)
{
    uint32_t rva = next_rva(pe);
    section *s = &pe->sections[pe->section_count++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->characteristics = characteristics;
    s->rva = rva;
    synth_buf_init(&s->data);
    return s;
}

static bool is_x86(const synth_pe *pe)
{
    return pe->o.machine == SYNTH_CPU_X86;
}

static uint32_t optional_header_size(const synth_pe *pe)
{
    return is_x86(pe) ? OPTIONAL_HEADER_32 : OPTIONAL_HEADER_64;
}

static size_t unwind_function_count(const synth_text *t)
{
    size_t n = 0;
    for (size_t i = 0; i < synth_text_function_count(t); i++)
        n += synth_function_has_unwind(synth_text_function(t, (int)i));
    return n;
}

/* ---- Export directory ------------------------------------------------- */

static int compare_export_names(const void *a, const void *b)
{
    return strcmp(((const synth_pe_export *)a)->name, ((const synth_pe_export *)b)->name);
}

synth_pe_export *synth_pe_exports(const synth_pe *pe, size_t *count)
{
    const synth_text *t = pe->text;
    size_t n = 0, cap = synth_text_function_count(t) + pe->forwarder_count + 1;
    synth_pe_export *e = synth_alloc(cap * sizeof *e);
    for (size_t i = 0; i < synth_text_function_count(t); i++) {
        const synth_function *f = synth_text_function(t, (int)i);
        if (f->export_name)
            e[n++] = (synth_pe_export){f->export_name, synth_pe_function_rva(pe, (int)i), NULL,
                                    f->ordinal};
    }
    for (size_t i = 0; i < pe->forwarder_count; i++) {
        const forwarder *fw = &pe->forwarders[i];
        uint32_t rva = fw->target ? 0 : synth_pe_function_rva(pe, fw->function);
        e[n++] = (synth_pe_export){fw->name, rva, fw->target, fw->ordinal};
    }
    uint16_t next = 1;
    for (size_t i = 0; i < n; i++) {
        if (e[i].ordinal)
            continue;
        for (bool taken = true; taken; next++) {
            taken = false;
            for (size_t k = 0; k < n; k++)
                taken |= e[k].ordinal == next;
            if (!taken)
                e[i].ordinal = next;
        }
    }
    qsort(e, n, sizeof *e, compare_export_names);
    *count = n;
    return e;
}

static void ordinal_range(const synth_pe_export *e, size_t n, uint16_t *base, uint16_t *last)
{
    *base = UINT16_MAX;
    *last = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].ordinal < *base)
            *base = e[i].ordinal;
        if (e[i].ordinal > *last)
            *last = e[i].ordinal;
    }
}

/* IMAGE_EXPORT_DIRECTORY (40): Characteristics 0, TimeDateStamp 4,
 * MajorVersion 8, MinorVersion 0xA, Name 0xC, Base 0x10, NumberOfFunctions
 * 0x14, NumberOfNames 0x18, AddressOfFunctions 0x1C, AddressOfNames 0x20,
 * AddressOfNameOrdinals 0x24; then the address table (u32 per ordinal), the
 * name pointer table (sorted), the ordinal table (u16), the DLL name and the
 * name and forwarder strings, all inside the directory so that an address
 * table entry pointing into it reads as a forwarder. */
static void write_exports(synth_pe *pe, section *s)
{
    size_t n;
    synth_pe_export *e = synth_pe_exports(pe, &n);
    if (n == 0) {
        free(e);
        return;
    }
    uint16_t base, last;
    ordinal_range(e, n, &base, &last);
    size_t functions = (size_t)last - base + 1;
    synth_buf *b = &s->data;
    synth_buf_align(b, 4, 0);
    size_t dir = synth_buf_reserve(b, EXPORT_DIRECTORY_SIZE);
    size_t eat = synth_buf_reserve(b, 4 * functions);
    size_t names = synth_buf_reserve(b, 4 * n);
    size_t ordinals = synth_buf_reserve(b, 2 * n);
    uint32_t rva0 = s->rva;
    synth_buf_patch_u32(b, dir + 4, pe->o.timestamp);
    synth_buf_patch_u32(b, dir + 0xC, rva0 + (uint32_t)synth_buf_cstr(b, pe->name));
    synth_buf_patch_u32(b, dir + 0x10, base);
    synth_buf_patch_u32(b, dir + 0x14, (uint32_t)functions);
    synth_buf_patch_u32(b, dir + 0x18, (uint32_t)n);
    synth_buf_patch_u32(b, dir + 0x1C, rva0 + (uint32_t)eat);
    synth_buf_patch_u32(b, dir + 0x20, rva0 + (uint32_t)names);
    synth_buf_patch_u32(b, dir + 0x24, rva0 + (uint32_t)ordinals);
    for (size_t i = 0; i < n; i++) {
        size_t slot = eat + 4 * (size_t)(e[i].ordinal - base);
        synth_buf_patch_u32(b, names + 4 * i, rva0 + (uint32_t)synth_buf_cstr(b, e[i].name));
        synth_buf_patch_u16(b, ordinals + 2 * i, (uint16_t)(e[i].ordinal - base));
        uint32_t target = e[i].forward_to ? rva0 + (uint32_t)synth_buf_cstr(b, e[i].forward_to)
                                          : e[i].rva;
        synth_buf_patch_u32(b, slot, target);
    }
    pe->export_rva = rva0 + (uint32_t)dir;
    pe->export_size = (uint32_t)(b->size - dir);
    free(e);
}

/* IMAGE_DEBUG_DIRECTORY (28): Characteristics 0, TimeDateStamp 4,
 * MajorVersion 8, MinorVersion 0xA, Type 0xC (2 = CODEVIEW), SizeOfData
 * 0x10, AddressOfRawData 0x14, PointerToRawData 0x18 (patched once file
 * offsets are known); then the RSDS record: "RSDS", GUID, Age, PDB name. */
static void write_debug_directory(synth_pe *pe, section *s)
{
    if (!pe->o.has_codeview)
        return;
    synth_buf *b = &s->data;
    synth_buf_align(b, 4, 0);
    size_t dir = synth_buf_reserve(b, DEBUG_DIRECTORY_SIZE);
    size_t cv = synth_buf_bytes(b, "RSDS", 4);
    synth_buf_bytes(b, pe->o.codeview.guid, 16);
    synth_buf_u32(b, pe->o.codeview.age);
    synth_buf_cstr(b, pe->pdb_name);
    synth_buf_patch_u32(b, dir + 4, pe->o.timestamp);
    synth_buf_patch_u32(b, dir + 0xC, 2);
    synth_buf_patch_u32(b, dir + 0x10, (uint32_t)(b->size - cv));
    synth_buf_patch_u32(b, dir + 0x14, s->rva + (uint32_t)cv);
    pe->debug_rva = s->rva + (uint32_t)dir;
}

/* ---- Exception data ------------------------------------------------------ */

typedef struct pdata_entry {
    int function;
    uint32_t begin, end;
} pdata_entry;

static int compare_pdata(const void *a, const void *b)
{
    const pdata_entry *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

static uint32_t pdata_entry_rva(const synth_pe *pe, const pdata_entry *entries, size_t n,
                                int function)
{
    for (size_t i = 0; i < n; i++)
        if (entries[i].function == function)
            return pe->pdata->rva + (uint32_t)(i * RUNTIME_FUNCTION_SIZE);
    synth_fail("function %d has no RUNTIME_FUNCTION", function);
}

/* RUNTIME_FUNCTION (12): BeginAddress, EndAddress, UnwindData (RVA of the
 * UNWIND_INFO, or with bit 0 set the RVA of the primary RUNTIME_FUNCTION). */
static void put_runtime_function(synth_buf *b, size_t at, uint32_t begin, uint32_t end,
                                 uint32_t unwind)
{
    synth_buf_patch_u32(b, at, begin);
    synth_buf_patch_u32(b, at + 4, end);
    synth_buf_patch_u32(b, at + 8, unwind);
}

/* UNWIND_INFO blobs into .xdata, then the sorted RUNTIME_FUNCTIONs. */
static void write_exception_data(synth_pe *pe, section *pdata, section *xdata)
{
    const synth_text *t = pe->text;
    size_t count = synth_text_function_count(t), n = 0;
    pdata_entry *entries = synth_alloc((count + 1) * sizeof *entries);
    uint32_t *unwind_rva = synth_alloc((count + 1) * sizeof *unwind_rva);
    size_t *chain_at = synth_alloc((count + 1) * sizeof *chain_at);
    for (size_t i = 0; i < count; i++) {
        const synth_function *f = synth_text_function(t, (int)i);
        if (!synth_function_has_unwind(f))
            continue;
        uint32_t begin = synth_pe_function_rva(pe, (int)i);
        entries[n++] = (pdata_entry){(int)i, begin, begin + synth_text_code(t, (int)i)->size};
        if (f->fragment == SYNTH_INDIRECT)
            continue;
        const synth_function *parent = f->fragment ? synth_text_function(t, f->parent) : NULL;
        synth_buf_align(&xdata->data, 4, 0);
        unwind_rva[i] = xdata->rva + (uint32_t)xdata->data.size;
        synth_code_unwind_info(f, parent, synth_text_code(t, (int)i), &xdata->data, &chain_at[i]);
    }
    qsort(entries, n, sizeof *entries, compare_pdata);
    for (size_t i = 0; i < n; i++) {
        const synth_function *f = synth_text_function(t, entries[i].function);
        uint32_t unwind = f->fragment == SYNTH_INDIRECT
                              ? pdata_entry_rva(pe, entries, n, f->parent) | 1
                              : unwind_rva[entries[i].function];
        put_runtime_function(&pdata->data, i * RUNTIME_FUNCTION_SIZE, entries[i].begin,
                             entries[i].end, unwind);
        if (f->fragment == SYNTH_CHAINED) {
            const pdata_entry *p = NULL;
            for (size_t k = 0; k < n; k++)
                if (entries[k].function == f->parent)
                    p = &entries[k];
            put_runtime_function(&xdata->data, chain_at[entries[i].function], p->begin, p->end,
                                 unwind_rva[f->parent]);
        }
    }
    free(entries);
    free(unwind_rva);
    free(chain_at);
}

/* ---- Layout ------------------------------------------------------------- */

static void layout_sections(synth_pe *pe)
{
    bool has_unwind = !is_x86(pe) && unwind_function_count(pe->text) > 0;
    size_t count = 2 + (has_unwind ? 2 : 0) + (pe->long_section_name ? 1 : 0);
    pe->size_of_headers = align_up(DOS_HEADER_END + 4 + COFF_HEADER_SIZE +
                                       optional_header_size(pe) +
                                       (uint32_t)count * SECTION_HEADER_SIZE, FILE_ALIGN);
    section *text = add_section(pe, ".text", SCN_CODE);
    synth_buf_reserve(&text->data, synth_text_layout(pe->text, pe->o.image_base + text->rva));
    pe->rdata = add_section(pe, ".rdata", SCN_RDATA);
    pe->slots_rva = pe->rdata->rva;
    synth_buf_reserve(&pe->rdata->data,
                      synth_text_slot_size(pe->text) * synth_text_thunk_count(pe->text));
    write_exports(pe, pe->rdata);
    write_debug_directory(pe, pe->rdata);
    if (has_unwind) {
        pe->pdata = add_section(pe, ".pdata", SCN_RDATA);
        synth_buf_reserve(&pe->pdata->data,
                          unwind_function_count(pe->text) * RUNTIME_FUNCTION_SIZE);
        section *xdata = add_section(pe, ".xdata", SCN_RDATA);
        write_exception_data(pe, pe->pdata, xdata);
    }
    if (pe->long_section_name) {
        section *extra = add_section(pe, pe->long_section_name, SCN_DISCARDABLE_DATA);
        synth_buf_cstr(&extra->data, "synthetic section with a long name");
    }
    pe->size_of_image = next_rva(pe);
}

/* Raw data follows the headers, each section FILE_ALIGN aligned; the COFF
 * string table (u32 size, then NUL-terminated names) comes last. */
static void assign_file_offsets(synth_pe *pe)
{
    uint32_t offset = pe->size_of_headers;
    pe->string_table_size = 4;
    for (size_t i = 0; i < pe->section_count; i++) {
        section *s = &pe->sections[i];
        s->file_offset = offset;
        offset += align_up((uint32_t)s->data.size, FILE_ALIGN);
        if (strlen(s->name) > 8) {
            s->name_offset = pe->string_table_size;
            pe->string_table_size += (uint32_t)strlen(s->name) + 1;
        }
    }
}

void synth_pe_layout(synth_pe *pe)
{
    if (pe->laid_out)
        synth_fail("image %s laid out twice", pe->name);
    layout_sections(pe);
    assign_file_offsets(pe);
    pe->laid_out = true;
}

/* ---- Headers ------------------------------------------------------------- */

/* IMAGE_DOS_HEADER: e_magic "MZ", e_cblp 0x90, e_cp 3, e_cparhdr 4,
 * e_maxalloc 0xFFFF, e_sp 0xB8, e_lfarlc 0x40, e_lfanew at 0x3C; then the
 * customary real-mode stub that prints a message and exits. */
static void write_dos_header(synth_buf *b)
{
    static const uint8_t stub[14] = {0x0E, 0x1F, 0xBA, 0x0E, 0x00, 0xB4, 0x09,
                                     0xCD, 0x21, 0xB8, 0x01, 0x4C, 0xCD, 0x21};
    size_t at = synth_buf_reserve(b, DOS_HEADER_END);
    synth_buf_patch_bytes(b, at, "MZ", 2);
    synth_buf_patch_u16(b, at + 2, 0x90);
    synth_buf_patch_u16(b, at + 4, 3);
    synth_buf_patch_u16(b, at + 8, 4);
    synth_buf_patch_u16(b, at + 0xC, 0xFFFF);
    synth_buf_patch_u16(b, at + 0x10, 0xB8);
    synth_buf_patch_u16(b, at + 0x18, 0x40);
    synth_buf_patch_u32(b, at + 0x3C, DOS_HEADER_END);
    synth_buf_patch_bytes(b, at + 0x40, stub, sizeof stub);
    static const char message[] = "This program cannot be run in DOS mode.\r\r\n$";
    synth_buf_patch_bytes(b, at + 0x4E, message, sizeof message - 1);
}

/* IMAGE_FILE_HEADER: Machine 0, NumberOfSections 2, TimeDateStamp 4,
 * PointerToSymbolTable 8 (the string table, with NumberOfSymbols 0xC = 0),
 * SizeOfOptionalHeader 0x10, Characteristics 0x12 (EXECUTABLE_IMAGE 0x2,
 * LARGE_ADDRESS_AWARE 0x20 on x64, 32BIT_MACHINE 0x100 on x86, DLL 0x2000). */
static void write_file_header(const synth_pe *pe, synth_buf *b, uint32_t string_table)
{
    synth_buf_bytes(b, "PE\0\0", 4);
    synth_buf_u16(b, is_x86(pe) ? MACHINE_I386 : MACHINE_AMD64);
    synth_buf_u16(b, (uint16_t)pe->section_count);
    synth_buf_u32(b, pe->o.timestamp);
    synth_buf_u32(b, pe->string_table_size > 4 ? string_table : 0);
    synth_buf_u32(b, 0);
    synth_buf_u16(b, (uint16_t)optional_header_size(pe));
    synth_buf_u16(b, (uint16_t)((is_x86(pe) ? 0x102 : 0x22) | (pe->o.is_dll ? 0x2000 : 0)));
}

static uint32_t section_total(const synth_pe *pe, uint32_t characteristics)
{
    uint32_t total = 0;
    for (size_t i = 0; i < pe->section_count; i++)
        if (pe->sections[i].characteristics == characteristics)
            total += align_up((uint32_t)pe->sections[i].data.size, FILE_ALIGN);
    return total;
}

static void put_directory(synth_buf *b, size_t dirs, int index, uint32_t rva, uint32_t size)
{
    synth_buf_patch_u32(b, dirs + 8 * (size_t)index, rva);
    synth_buf_patch_u32(b, dirs + 8 * (size_t)index + 4, size);
}

/* Stack and heap reserve/commit: u64 at 0x48.. in PE32+, u32 at 0x48.. in
 * PE32; then LoaderFlags and NumberOfRvaAndSizes (16); returns the offset
 * of the DataDirectory array (0x70 PE32+, 0x60 PE32). */
static size_t patch_sizes_and_directory_count(const synth_pe *pe, synth_buf *b, size_t at)
{
    static const uint32_t sizes[4] = {0x80000, 0x2000, 0x100000, 0x1000};
    size_t width = is_x86(pe) ? 4 : 8;
    for (size_t i = 0; i < 4; i++) {
        if (is_x86(pe))
            synth_buf_patch_u32(b, at + 0x48 + width * i, sizes[i]);
        else
            synth_buf_patch_u64(b, at + 0x48 + width * i, sizes[i]);
    }
    size_t count_at = at + 0x48 + 4 * width + 4;
    synth_buf_patch_u32(b, count_at, 16);
    return count_at + 4;
}

/* IMAGE_OPTIONAL_HEADER64 (0xF0) / 32 (0xE0): Magic 0x20B / 0x10B, linker
 * 14.0, SizeOfCode 4, SizeOfInitializedData 8, AddressOfEntryPoint 0x10,
 * BaseOfCode 0x14, ImageBase 0x18 (u64) / BaseOfData 0x18 + ImageBase 0x1C
 * (u32), SectionAlignment 0x20, FileAlignment 0x24, OS version 0x28 (6.1),
 * subsystem version 0x30 (6.1), SizeOfImage 0x38, SizeOfHeaders 0x3C,
 * CheckSum 0x40, Subsystem 0x44 (3 CUI), DllCharacteristics 0x46
 * (DYNAMIC_BASE | NX_COMPAT), stack and heap sizes from 0x48, then
 * NumberOfRvaAndSizes and the DataDirectory. */
static void write_optional_header(const synth_pe *pe, synth_buf *b)
{
    size_t at = synth_buf_reserve(b, optional_header_size(pe));
    const synth_text *t = pe->text;
    synth_buf_patch_u16(b, at, is_x86(pe) ? 0x10B : 0x20B);
    synth_buf_patch_u8(b, at + 2, 14);
    synth_buf_patch_u32(b, at + 4, section_total(pe, SCN_CODE));
    synth_buf_patch_u32(b, at + 8,
                        section_total(pe, SCN_RDATA) + section_total(pe, SCN_DISCARDABLE_DATA));
    synth_buf_patch_u32(b, at + 0x10,
                        synth_text_function_count(t) ? synth_pe_function_rva(pe, 0) : 0);
    synth_buf_patch_u32(b, at + 0x14, pe->sections[0].rva);
    if (is_x86(pe)) {
        synth_buf_patch_u32(b, at + 0x18, pe->rdata->rva);
        synth_buf_patch_u32(b, at + 0x1C, (uint32_t)pe->o.image_base);
    } else {
        synth_buf_patch_u64(b, at + 0x18, pe->o.image_base);
    }
    synth_buf_patch_u32(b, at + 0x20, SECTION_ALIGN);
    synth_buf_patch_u32(b, at + 0x24, FILE_ALIGN);
    synth_buf_patch_u16(b, at + 0x28, 6);
    synth_buf_patch_u16(b, at + 0x2A, 1);
    synth_buf_patch_u16(b, at + 0x30, 6);
    synth_buf_patch_u16(b, at + 0x32, 1);
    synth_buf_patch_u32(b, at + 0x38, pe->size_of_image);
    synth_buf_patch_u32(b, at + 0x3C, pe->size_of_headers);
    synth_buf_patch_u16(b, at + 0x44, 3);
    synth_buf_patch_u16(b, at + 0x46, 0x0140);
    size_t dirs = patch_sizes_and_directory_count(pe, b, at);
    if (pe->export_size)
        put_directory(b, dirs, DIR_EXPORT, pe->export_rva, pe->export_size);
    if (pe->pdata)
        put_directory(b, dirs, DIR_EXCEPTION, pe->pdata->rva, (uint32_t)pe->pdata->data.size);
    if (pe->debug_rva)
        put_directory(b, dirs, DIR_DEBUG, pe->debug_rva, DEBUG_DIRECTORY_SIZE);
    if (synth_text_thunk_count(t))
        put_directory(b, dirs, DIR_IAT, pe->slots_rva,
                      synth_text_slot_size(t) * (uint32_t)synth_text_thunk_count(t));
}

/* IMAGE_SECTION_HEADER (40): Name[8] (or "/N": offset N into the string
 * table), VirtualSize 8, VirtualAddress 0xC, SizeOfRawData 0x10,
 * PointerToRawData 0x14, relocations/line numbers 0x18-0x23 (0),
 * Characteristics 0x24. */
static void write_section_header(synth_buf *b, const section *s)
{
    char name[9] = {0};
    if (strlen(s->name) > 8)
        snprintf(name, sizeof name, "/%u", s->name_offset);
    else
        memcpy(name, s->name, strlen(s->name));
    synth_buf_bytes(b, name, 8);
    synth_buf_u32(b, (uint32_t)s->data.size);
    synth_buf_u32(b, s->rva);
    synth_buf_u32(b, align_up((uint32_t)s->data.size, FILE_ALIGN));
    synth_buf_u32(b, s->file_offset);
    synth_buf_zeros(b, 12);
    synth_buf_u32(b, s->characteristics);
}

static void write_string_table(const synth_pe *pe, synth_buf *b)
{
    if (pe->string_table_size <= 4)
        return;
    synth_buf_u32(b, pe->string_table_size);
    for (size_t i = 0; i < pe->section_count; i++)
        if (strlen(pe->sections[i].name) > 8)
            synth_buf_cstr(b, pe->sections[i].name);
}

/* PE checksum: 16-bit one's-complement style sum of the file with the
 * CheckSum field taken as zero, folded, plus the file length. */
static uint32_t pe_checksum(const uint8_t *p, size_t size, size_t checksum_at)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < size; i += 2) {
        if (i == checksum_at || i == checksum_at + 2)
            continue;
        sum += p[i] | (i + 1 < size ? p[i + 1] << 8 : 0);
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint32_t)(sum + size);
}

/* The RSDS record's file offset in the debug directory entry. */
static void patch_debug_pointer(const synth_pe *pe, synth_buf *b)
{
    if (!pe->debug_rva)
        return;
    const section *r = pe->rdata;
    size_t entry = r->file_offset + (pe->debug_rva - r->rva);
    uint32_t raw_rva = synth_get_u32(b->data + entry + 0x14);
    synth_buf_patch_u32(b, entry + 0x18, r->file_offset + (raw_rva - r->rva));
}

void synth_pe_build(synth_pe *pe, synth_buf *out)
{
    require_layout(pe);
    if (out->size)
        synth_fail("synth_pe_build needs an empty buffer");
    section *text = &pe->sections[0];
    synth_text_emit(pe->text, pe->o.image_base + pe->slots_rva, text->data.data);
    synth_text_emit_slots(pe->text, pe->rdata->data.data);
    const section *last = &pe->sections[pe->section_count - 1];
    uint32_t string_table = last->file_offset + align_up((uint32_t)last->data.size, FILE_ALIGN);
    write_dos_header(out);
    write_file_header(pe, out, string_table);
    write_optional_header(pe, out);
    for (size_t i = 0; i < pe->section_count; i++)
        write_section_header(out, &pe->sections[i]);
    for (size_t i = 0; i < pe->section_count; i++) {
        synth_buf_extend_to(out, pe->sections[i].file_offset);
        synth_buf_bytes(out, pe->sections[i].data.data, pe->sections[i].data.size);
    }
    synth_buf_extend_to(out, string_table);
    write_string_table(pe, out);
    patch_debug_pointer(pe, out);
    size_t checksum_at = DOS_HEADER_END + 4 + COFF_HEADER_SIZE + 0x40;
    pe->checksum = pe_checksum(out->data, out->size, checksum_at);
    synth_buf_patch_u32(out, checksum_at, pe->checksum);
}

/* ---- Placement ----------------------------------------------------------- */

void synth_pe_map(const synth_pe *pe, const synth_buf *file, synth_buf *out)
{
    require_layout(pe);
    synth_buf_init(out);
    synth_buf_reserve(out, pe->size_of_image);
    synth_buf_patch_bytes(out, 0, file->data, pe->size_of_headers);
    for (size_t i = 0; i < pe->section_count; i++) {
        const section *s = &pe->sections[i];
        synth_buf_patch_bytes(out, s->rva, file->data + s->file_offset, s->data.size);
    }
}

void synth_pe_module_entry(const synth_pe *pe, const char *path, const uint16_t version[4],
                           synth_module *out)
{
    require_layout(pe);
    memset(out, 0, sizeof *out);
    out->path = path;
    out->base = pe->o.image_base;
    out->size = pe->size_of_image;
    out->checksum = pe->checksum;
    out->timestamp = pe->o.timestamp;
    out->is_dll = pe->o.is_dll;
    out->has_version = version != NULL;
    if (version)
        memcpy(out->version, version, sizeof out->version);
    out->has_codeview = pe->o.has_codeview;
    out->codeview = pe->o.codeview;
}

void synth_pe_add_to_dump_memory(const synth_pe *pe, const synth_buf *file, synth_dump *d)
{
    synth_buf mapped;
    synth_pe_map(pe, file, &mapped);
    synth_dump_add_memory(d, pe->o.image_base, mapped.data, mapped.size);
    synth_buf_free(&mapped);
}

static void add_image_region(const synth_pe *pe, synth_dump *d, uint32_t rva, uint32_t size,
                             uint32_t protect)
{
    synth_memory_info mi = {.base = pe->o.image_base + rva, .allocation_base = pe->o.image_base,
                            .allocation_protect = 0x80 /* PAGE_EXECUTE_WRITECOPY */,
                            .region_size = size, .state = SYNTH_MEM_COMMIT,
                            .protect = protect, .type = SYNTH_MEM_IMAGE};
    synth_dump_add_memory_info(d, &mi);
}

void synth_pe_add_memory_infos(const synth_pe *pe, synth_dump *d)
{
    require_layout(pe);
    add_image_region(pe, d, 0, SECTION_ALIGN, SYNTH_PAGE_READONLY);
    for (size_t i = 0; i < pe->section_count; i++) {
        const section *s = &pe->sections[i];
        uint32_t size = align_up((uint32_t)s->data.size, SECTION_ALIGN);
        add_image_region(pe, d, s->rva, size, s->characteristics == SCN_CODE
                                                  ? SYNTH_PAGE_EXECUTE_READ : SYNTH_PAGE_READONLY);
    }
}

/* ---- Breakpad symbols ------------------------------------------------------ */

static const char *debug_file(const synth_pe *pe)
{
    const char *name = pe->pdb_name[0] ? pe->pdb_name : pe->name;
    const char *slash = strrchr(name, '\\');
    return slash ? slash + 1 : name;
}

void synth_pe_sym_path(const synth_pe *pe, char *out, size_t size)
{
    char id[42];
    synth_codeview_id(&pe->o.codeview, id);
    const char *file = debug_file(pe);
    size_t stem = strlen(file);
    if (stem > 4 && strcmp(file + stem - 4, ".pdb") == 0)
        stem -= 4;
    snprintf(out, size, "%s/%s/%.*s.sym", file, id, (int)stem, file);
}

static const char *target_name(synth_target target, char *scratch, size_t size)
{
    if (!target.text) {
        snprintf(scratch, size, "jit_target_%llx", (unsigned long long)target.address);
        return scratch;
    }
    const synth_function *f = synth_text_function(target.text, target.function);
    return f->export_name ? f->export_name : f->name;
}

/* MODULE os arch id name / INFO CODE_ID <TimeDateStamp%08X><SizeOfImage%x>
 * file / FILE n path / FUNC rva size param_size name, each followed by one
 * line record "rva size line file" / STACK WIN for x86 (synth_win.h) /
 * PUBLIC rva param_size name. */
void synth_pe_write_sym(const synth_pe *pe, FILE *out)
{
    require_layout(pe);
    char id[42];
    synth_codeview_id(&pe->o.codeview, id);
    const synth_text *t = pe->text;
    fprintf(out, "MODULE windows %s %s %s\n", is_x86(pe) ? "x86" : "x86_64", id, debug_file(pe));
    fprintf(out, "INFO CODE_ID %08X%x %s\n", pe->o.timestamp, pe->size_of_image, pe->name);
    fprintf(out, "FILE 0 d:\\synth\\%s.cpp\n", pe->name);
    for (size_t i = 0; i < synth_text_function_count(t); i++) {
        const synth_function *f = synth_text_function(t, (int)i);
        uint32_t rva = synth_pe_function_rva(pe, (int)i);
        uint32_t size = synth_text_code(t, (int)i)->size;
        fprintf(out, "FUNC %x %x %x %s\n", rva, size, f->param_size, f->name);
        fprintf(out, "%x %x %zu 0\n", rva, size, 100 + 10 * i);
    }
    for (size_t i = 0; is_x86(pe) && i < synth_text_function_count(t); i++)
        synth_write_stack_win(out, synth_text_function(t, (int)i), synth_text_code(t, (int)i),
                              synth_pe_function_rva(pe, (int)i));
    for (size_t k = 0; k < synth_text_thunk_count(t); k++) {
        char scratch[64];
        uint32_t rva = (uint32_t)(synth_text_thunk_address(t, k) - pe->o.image_base);
        fprintf(out, "PUBLIC %x 0 %s\n", rva,
                target_name(synth_text_thunk_target(t, k), scratch, sizeof scratch));
    }
}

/* <dir>/images/<name> and <dir>/symbols/<store path>. */
int synth_pe_write_files(const synth_pe *pe, const synth_buf *file, const char *dir)
{
    char path[4096], rel[1024];
    snprintf(path, sizeof path, "%s/images", dir);
    if (synth_make_directories(path) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/images/%s", dir, pe->name);
    if (synth_write_file(path, file->data, file->size) != 0)
        return -1;
    synth_pe_sym_path(pe, rel, sizeof rel);
    snprintf(path, sizeof path, "%s/symbols/%s", dir, rel);
    *strrchr(path, '/') = '\0';
    if (synth_make_directories(path) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/symbols/%s", dir, rel);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    synth_pe_write_sym(pe, f);
    return fclose(f);
}
