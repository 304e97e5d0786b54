/* synth_json: JSON descriptions of images for expected.json. */
#include "synth_json.h"

#include <stdlib.h>

void synth_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static const char *const register_names[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};

/* {"name", "ordinal", "rva"} or {"name", "ordinal", "forward"} */
static void json_exports(FILE *f, const synth_pe *pe)
{
    size_t n;
    synth_pe_export *e = synth_pe_exports(pe, &n);
    fputs(",\n      \"exports\": [", f);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", {\"name\": " : "{\"name\": ", f);
        synth_json_string(f, e[i].name);
        fprintf(f, ", \"ordinal\": %u, ", e[i].ordinal);
        if (e[i].forward_to) {
            fputs("\"forward\": ", f);
            synth_json_string(f, e[i].forward_to);
        } else {
            fprintf(f, "\"rva\": \"0x%x\"", e[i].rva);
        }
        fputc('}', f);
    }
    fputc(']', f);
    free(e);
}

/* One prolog operation as its unwind code describes it. */
static void json_op(FILE *f, const synth_op *op, uint32_t at)
{
    fprintf(f, "{\"at\": %u, ", at);
    switch (op->kind) {
    case SYNTH_OP_PUSH:
        fprintf(f, "\"op\": \"push\", \"reg\": \"%s\"}", register_names[op->reg]);
        break;
    case SYNTH_OP_ALLOC: fprintf(f, "\"op\": \"alloc\", \"size\": %u}", op->value); break;
    case SYNTH_OP_SET_FPREG:
        fprintf(f, "\"op\": \"set_fpreg\", \"reg\": \"%s\", \"offset\": %u}",
                register_names[op->reg], op->value);
        break;
    case SYNTH_OP_SAVE:
        fprintf(f, "\"op\": \"save\", \"reg\": \"%s\", \"offset\": %u}", register_names[op->reg],
                op->value);
        break;
    case SYNTH_OP_SAVE_XMM:
        fprintf(f, "\"op\": \"save_xmm\", \"reg\": \"xmm%u\", \"offset\": %u}", op->reg, op->value);
        break;
    case SYNTH_OP_MACHFRAME:
        fprintf(f, "\"op\": \"machframe\", \"error_code\": %s}", op->reg ? "true" : "false");
        break;
    }
}

/* The unwind data the image carries for a function: null for a leaf; the
 * primary's name for an indirect entry; else version, prolog size, frame
 * register and the operations in UNWIND_CODE order (last prolog op first). */
static void json_unwind(FILE *f, const synth_text *t, int index)
{
    const synth_function *fn = synth_text_function(t, index);
    const synth_code *code = synth_text_code(t, index);
    if (!synth_function_has_unwind(fn)) {
        fputs("null", f);
        return;
    }
    const synth_function *primary = synth_text_function(t, synth_text_primary(t, index));
    if (fn->fragment == SYNTH_INDIRECT) {
        fputs("{\"indirect_to\": ", f);
        synth_json_string(f, primary->name);
        fputc('}', f);
        return;
    }
    fprintf(f, "{\"version\": %u, \"prolog_size\": %u, \"epilogs\": %zu, \"chained_to\": ",
            fn->unwind_version ? fn->unwind_version : 1, code->prolog_size, code->epilog_count);
    if (fn->fragment == SYNTH_CHAINED)
        synth_json_string(f, primary->name);
    else
        fputs("null", f);
    const synth_op *fp = NULL;
    for (size_t i = 0; i < primary->op_count; i++)
        if (primary->ops[i].kind == SYNTH_OP_SET_FPREG)
            fp = &primary->ops[i];
    if (fp)
        fprintf(f, ", \"frame_register\": \"%s\", \"frame_offset\": %u", register_names[fp->reg],
                fp->value);
    else
        fputs(", \"frame_register\": null, \"frame_offset\": 0", f);
    uint32_t *at = synth_alloc((fn->op_count + 1) * sizeof *at);
    synth_code_op_offsets(fn, code, at);
    fputs(", \"codes\": [", f);
    for (size_t i = fn->op_count; i-- > 0;) {
        json_op(f, &fn->ops[i], at[i]);
        fputs(i ? ", " : "", f);
    }
    fputs("]}", f);
    free(at);
}

/* {"name", "rva", "size", "unwind"} per function of an image. */
static void json_functions(FILE *f, const synth_pe *pe)
{
    const synth_text *t = synth_pe_text_const(pe);
    fputs(",\n      \"functions\": [", f);
    for (size_t i = 0; i < synth_text_function_count(t); i++) {
        const synth_function *fn = synth_text_function(t, (int)i);
        fputs(i ? ",\n        {\"name\": " : "\n        {\"name\": ", f);
        synth_json_string(f, fn->name);
        fprintf(f, ", \"rva\": \"0x%x\", \"size\": %u, \"unwind\": ",
                synth_pe_function_rva(pe, (int)i), synth_text_code(t, (int)i)->size);
        if (synth_pe_get_options(pe)->machine == SYNTH_CPU_X86)
            fputs("null", f); /* x86 images carry no unwind data */
        else
            json_unwind(f, t, (int)i);
        fputc('}', f);
    }
    fputs("]", f);
}

void synth_json_image(FILE *f, const synth_pe *pe)
{
    const synth_pe_options *o = synth_pe_get_options(pe);
    char id[42];
    synth_codeview_id(&o->codeview, id);
    fputs("{\"name\": ", f);
    synth_json_string(f, o->name);
    fprintf(f, ", \"kind\": \"image\", \"machine\": \"%s\", \"base\": \"0x%llx\", \"size\": %u",
            o->machine == SYNTH_CPU_X86 ? "x86" : "amd64", (unsigned long long)o->image_base,
            synth_pe_size_of_image(pe));
    fputs(", \"debug_file\": ", f);
    synth_json_string(f, o->codeview.pdb_name);
    fprintf(f, ", \"debug_id\": \"%s\"", id);
    json_exports(f, pe);
    json_functions(f, pe);
    fputc('}', f);
}
