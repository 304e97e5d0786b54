/*
 * Images written by synth_pe, read back by the project's image reader:
 * headers, sections, exports and forwarders, CodeView, .pdata, from the file
 * and from a full dump's memory; a PE32 image too; deterministic bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dumptriage/image.h"
#include "scenarios.h"

static dt_image *open_image_bytes(const synth_buf *file)
{
    char path[] = "/tmp/synth_pe_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(synth_write_file(path, file->data, file->size), 0);
    dt_image *img = NULL;
    dt_error err;
    dt_status st = dt_image_open_file(&img, path, &err);
    unlink(path);
    if (st != DT_OK)
        fail_msg("dt_image_open_file: %s", err.message);
    return img;
}

static void assert_no_errors(const dt_image *img)
{
    size_t count;
    const dt_diagnostic *diags = dt_image_diagnostics(img, &count);
    for (size_t i = 0; i < count; i++)
        if (diags[i].level == DT_DIAG_ERROR)
            fail_msg("%s: %s: %s", dt_image_label(img), diags[i].structure, diags[i].message);
}

static const dt_image_export *find_export(const dt_image *img, const char *name)
{
    size_t n;
    const dt_image_export *e = dt_image_exports(img, &n);
    for (size_t i = 0; i < n; i++)
        if (e[i].name && strcmp(e[i].name, name) == 0)
            return &e[i];
    return NULL;
}

/* The image agrees with the builder: headers, exports, CodeView, .pdata. */
static void check_image(const dt_image *img, const synth_pe *pe)
{
    assert_no_errors(img);
    const synth_pe_options *o = synth_pe_get_options(pe);
    const dt_image_headers *h = dt_image_headers_get(img);
    assert_int_equal(h->machine, o->machine == SYNTH_CPU_X86 ? DT_IMAGE_MACHINE_I386
                                                             : DT_IMAGE_MACHINE_AMD64);
    assert_int_equal(h->pe32_plus, o->machine != SYNTH_CPU_X86);
    assert_int_equal(h->image_base, o->image_base);
    assert_int_equal(h->timestamp, o->timestamp);
    assert_int_equal(h->size_of_image, synth_pe_size_of_image(pe));
    assert_int_equal(h->checksum, synth_pe_checksum(pe));
    size_t n;
    synth_pe_export *exports = synth_pe_exports(pe, &n);
    for (size_t i = 0; i < n; i++) {
        const dt_image_export *e = find_export(img, exports[i].name);
        assert_non_null(e);
        assert_int_equal(e->ordinal, exports[i].ordinal);
        if (exports[i].forward_to)
            assert_string_equal(e->forwarder, exports[i].forward_to);
        else
            assert_int_equal(e->rva, exports[i].rva);
    }
    free(exports);
    const dt_codeview *cv = dt_image_codeview(img);
    assert_non_null(cv);
    assert_int_equal(cv->kind, DT_CV_RSDS);
    assert_memory_equal(cv->guid, o->codeview.guid, 16);
    assert_int_equal(cv->age, o->codeview.age);
    const synth_text *t = synth_pe_text_const(pe);
    size_t with_unwind = 0, entries;
    for (size_t i = 0; o->machine != SYNTH_CPU_X86 && i < synth_text_function_count(t); i++)
        with_unwind += synth_function_has_unwind(synth_text_function(t, (int)i));
    dt_image_runtime_functions(img, &entries);
    assert_int_equal(entries, with_unwind);
}

/* Every image of every process scenario, from its file. */
static void test_scenario_images_read_back(void **state)
{
    (void)state;
    for (size_t s = 0; s < synth_scenario_count(); s++) {
        if (!synth_scenario_at(s)->build)
            continue;
        synth_process *p = synth_scenario_at(s)->build();
        for (size_t u = 0; u < synth_process_unit_count(p); u++) {
            const synth_pe *pe = synth_process_pe(p, (int)u);
            if (!pe)
                continue;
            dt_image *img = open_image_bytes(synth_process_image(p, (int)u));
            check_image(img, pe);
            dt_image_free(img);
        }
        synth_process_free(p);
    }
}

/* An indirect entry resolves to its primary function. */
static void test_fragments_resolve(void **state)
{
    (void)state;
    synth_process *p = synth_scenario_find("unwind-edge-cases")->build();
    for (size_t u = 0; u < synth_process_unit_count(p); u++) {
        const synth_pe *pe = synth_process_pe(p, (int)u);
        if (!pe || strcmp(synth_pe_name(pe), "edgelib.dll") != 0)
            continue;
        const synth_text *t = synth_pe_text_const(pe);
        dt_image *img = open_image_bytes(synth_process_image(p, (int)u));
        int frag = synth_text_find(t, "EdgeIndirect$frag");
        dt_function_lookup found;
        assert_int_equal(
            dt_image_find_runtime_function(img, synth_pe_function_rva(pe, frag), &found), DT_OK);
        assert_int_equal(found.indirections, 1);
        assert_int_equal(found.primary.begin,
                         synth_pe_function_rva(pe, synth_text_find(t, "EdgeIndirect")));
        dt_image_free(img);
    }
    synth_process_free(p);
}

/* The full variant holds each image mapped at its base. */
static void test_images_in_full_dump_memory(void **state)
{
    (void)state;
    synth_process *p = synth_scenario_find("seed000-w3wp-shutdown")->build();
    synth_dump *d = synth_process_dump(p, SYNTH_VARIANT_FULL);
    char path[] = "/tmp/synth_pe_dump_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(synth_dump_write_file(d, path), 0);
    dt_dump *dump = NULL;
    assert_int_equal(dt_dump_open(&dump, path, NULL, NULL), DT_OK);
    unlink(path);
    size_t n;
    const dt_module *modules = dt_dump_modules(dump, &n);
    for (size_t i = 0; i < n; i++) {
        dt_image *img = NULL;
        assert_int_equal(dt_image_open_memory(&img, dump, &modules[i], NULL), DT_OK);
        assert_true(dt_image_matches_module(img, &modules[i]));
        check_image(img, synth_process_pe(p, (int)i));
        dt_image_free(img);
    }
    dt_dump_free(dump);
    synth_dump_free(d);
    synth_process_free(p);
}

/* A PE32 image with a syscall stub, an ebp frame, an import thunk, an alias,
 * a forwarder and a long section name. */
static void test_pe32_image(void **state)
{
    (void)state;
    static const synth_op frame[] = {{SYNTH_OP_PUSH, 5, 0, 0}, {SYNTH_OP_SET_FPREG, 5, 0, 0},
                                     {SYNTH_OP_ALLOC, 0, 0x10, 0}, {SYNTH_OP_PUSH, 6, 0, 0}};
    synth_pe_options o = {.name = "k32.dll", .machine = SYNTH_CPU_X86, .image_base = 0x77E40000,
                          .timestamp = 0x45D70AD9, .is_dll = true, .has_codeview = true,
                          .codeview = {.age = 1, .pdb_name = "k32.pdb"},
                          .long_section_name = ".synthetic_long"};
    synth_guid_from_seed(o.codeview.guid, "k32");
    synth_pe *pe = synth_pe_new(&o);
    int stub = synth_pe_add_function(pe, &(synth_function){.name = "NtWait",
                                                           .export_name = "NtWait",
                                                           .kind = SYNTH_FUNC_SYSCALL,
                                                           .syscall_number = 0x10F,
                                                           .param_size = 0xC});
    int wait = synth_pe_add_function(pe, &(synth_function){.name = "WaitEx",
        .export_name = "WaitEx", .ops = frame, .op_count = 4});
    synth_pe_add_alias(pe, "ZwWait", stub, 0);
    synth_pe_add_forwarder(pe, "HeapAlloc", "NTDLL.RtlAllocateHeap", 0);
    synth_text_add_call(synth_pe_text(pe), wait, 0x20, (synth_target){NULL, 0, 0x7C801000});
    synth_pe_layout(pe);
    synth_buf file;
    synth_buf_init(&file);
    synth_pe_build(pe, &file);
    dt_image *img = open_image_bytes(&file);
    check_image(img, pe);
    assert_int_equal(find_export(img, "ZwWait")->rva, find_export(img, "NtWait")->rva);
    assert_non_null(dt_image_section_by_name(img, ".synthetic_long"));
    uint8_t code[16];
    assert_int_equal(dt_image_read(img, synth_pe_function_rva(pe, stub), code, 15), 15);
    static const uint8_t stub_bytes[15] = {0xB8, 0x0F, 0x01, 0, 0, 0xBA, 0x00, 0x03, 0xFE,
                                           0x7F, 0xFF, 0x12, 0xC2, 0x0C, 0x00};
    assert_memory_equal(code, stub_bytes, 15);
    dt_image_free(img);
    synth_buf_free(&file);
    synth_pe_free(pe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_images_read_back),
        cmocka_unit_test(test_fragments_resolve),
        cmocka_unit_test(test_images_in_full_dump_memory),
        cmocka_unit_test(test_pe32_image),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
