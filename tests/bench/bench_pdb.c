/*
 * dt-bench: the large generated PDB of case 4, written with
 * tests/synth/synth_pdb. Modules of C++ procedures (S_GPROC32 or, for
 * functions in anonymous namespaces, S_LPROC32, each with S_FRAMEPROC,
 * S_REGREL32 parameters and S_END) with C13 lines and MD5 file checksums;
 * a section contribution per procedure; section headers; publics with
 * MSVC-decorated names; /names; and a TPI stream of classes, enums,
 * pointers and function types that is most of the file, as in real PDBs.
 * Names come from word lists through a hash of their index, so the same
 * arguments give the same file.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "synth_pdb.h"

enum {
    BLOCK_SIZE = 4096,
    MAX_MODULES = 4000,
    CLASSES_PER_MODULE = 8,      /* classes m * 8 .. m * 8 + 7 are module m's */
    MODULE_FILES = 5,            /* its .cc and .h, three other modules' headers */
    MAX_FUNCTIONS_PER_MODULE = 260,
    TEXT_RVA = 0x1000,
    RDATA_PER_MODULE = 0x100,
    DATA_PER_MODULE = 0x40,
    NAME_SIZE = 512,
    /* Stream numbers. */
    ST_INFO = 1, ST_TPI = 2, ST_DBI = 3, ST_IPI = 4, ST_NAMES = 5, ST_SECTIONS = 6,
    ST_PUBLICS = 7, ST_SYMREC = 8, ST_FIRST_MODULE = 9,
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(list, h) ((list)[(h) % COUNT(list)])

static const char *const NAMESPACES[] = {
    "net", "base", "gfx", "media", "storage", "crypto", "ui", "cc", "gpu", "ipc", "sql",
    "url", "printing", "audio", "device", "input", "render", "sync", "policy", "update",
    "shell", "core", "io", "db", "http", "vfs", "script", "layout", "text", "image",
    "base::internal", "net::quic", "gfx::gl", "media::mojom", "storage::leveldb",
    "content::renderer", "v8::internal", "ui::views", "core::detail", "render::vk",
};

static const char *const NOUNS[] = {
    "Http", "Stream", "Socket", "Cache", "Buffer", "Texture", "Shader", "Session", "Request",
    "Frame", "Layout", "Font", "Glyph", "Timer", "Task", "Thread", "Queue", "Pool", "Channel",
    "Message", "Port", "Handle", "Registry", "Policy", "Config", "Token", "Cert", "Path", "File",
    "Blob", "Record", "Index", "Table", "Query", "Cursor", "Audio", "Video", "Packet",
    "Metrics", "Profile", "Window", "Widget", "View", "Event", "Input", "Gesture", "Scroll",
    "Paint", "Raster", "Tile", "Image", "Color", "Surface", "Display", "Device", "Power",
    "Network", "Proxy", "Dns", "Cookie", "Url", "Origin", "Storage", "Quota", "Sync",
    "Download", "Upload", "Print", "Clipboard", "Drag", "Focus", "Menu", "Tab", "Page",
    "Document", "Node", "Element", "Style", "Selector", "Script", "Module", "Worker",
    "Promise", "Callback",
};

static const char *const ROLES[] = {
    "Manager", "Factory", "Impl", "Host", "Client", "Observer", "Delegate", "Controller",
    "Provider", "Service", "Builder", "Helper", "Tracker", "Dispatcher", "Handler", "Proxy",
    "Wrapper", "Adapter", "Monitor", "Scheduler", "Resolver", "Writer", "Reader", "Parser",
    "Serializer", "Store", "Backend", "Context", "State", "Info", "Params", "Options", "Entry",
    "Job", "Loader", "Cache", "Registry", "Queue", "Pool", "Set",
};

static const char *const VERBS[] = {
    "Get", "Set", "Create", "Destroy", "Initialize", "Shutdown", "Start", "Stop", "Reset",
    "Flush", "Read", "Write", "Open", "Close", "Parse", "Serialize", "Dispatch", "Handle",
    "Process", "Update", "Notify", "Register", "Unregister", "Add", "Remove", "Find", "Lookup",
    "Insert", "Erase", "Resize", "Attach", "Detach", "Load", "Save", "Commit", "Abort",
    "Resolve", "Schedule", "Cancel", "Post", "Run", "Validate",
};

static const char *const OBJECTS[] = {
    "Request", "Buffer", "Entry", "State", "Config", "Frame", "Task", "Callback", "Observer",
    "Handle", "Size", "Bounds", "Data", "Stream", "Connection", "Timeout", "Priority", "Result",
    "Error", "Metrics", "Token", "Header", "Body", "Cookie", "Policy", "Item", "Node", "Child",
    "Parent", "Range", "Offset", "Length", "Capacity", "Name", "Path", "Url", "Id", "Flags",
};

static const char *const ENUM_NAMES[] = {"State", "Kind", "Mode", "Type", "Priority", "Reason",
                                         "Flags", "Result"};

/* Template instances: the namespace, the identifier, and the name with $
 * for the argument class. */
static const char *const TEMPLATES[][3] = {
    {"std", "vector", "std::vector<$ *,std::allocator<$ *> >"},
    {"std", "unique_ptr", "std::unique_ptr<$,std::default_delete<$> >"},
    {"std", "shared_ptr", "std::shared_ptr<$>"},
    {"std", "_List_node", "std::_List_node<$ *,void *>"},
    {"std", "map", "std::map<int,$ *,std::less<int>,std::allocator<std::pair<int const ,$ *> > >"},
    {"base", "WeakPtr", "base::WeakPtr<$>"},
    {"base", "RefCountedThreadSafe",
     "base::RefCountedThreadSafe<$,base::DefaultRefCountedThreadSafeTraits<$> >"},
    {"base::internal", "BindState",
     "base::internal::BindState<void (__cdecl $::*)(void),base::WeakPtr<$> >"},
};

/* Decorated signatures (after the scope) of members and of free functions. */
static const char *const MEMBER_SIGNATURES[] = {"QEAAXXZ", "QEAAHXZ", "QEBA_NXZ", "QEAAXH@Z",
                                                "QEAAX_K@Z", "UEAAXXZ", "QEAAPEAXXZ",
                                                "QEBAHXZ"};
static const char *const FREE_SIGNATURES[] = {"YAXXZ", "YAHXZ", "YA_NPEAX@Z", "YAXH@Z"};

static const uint32_t SIMPLE_TYPES[] = {SYNTH_T_INT4, SYNTH_T_UINT4, SYNTH_T_UQUAD,
                                        SYNTH_T_BOOL08, SYNTH_T_REAL64, SYNTH_T_64PVOID,
                                        SYNTH_T_64PRCHAR, SYNTH_T_RCHAR};
static const uint32_t RETURN_TYPES[] = {SYNTH_T_VOID, SYNTH_T_VOID, SYNTH_T_INT4,
                                        SYNTH_T_BOOL08, SYNTH_T_64PVOID};

/* splitmix64's finalizer: a well-mixed hash of `x`. */
static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* ---- Names ------------------------------------------------------------------ */

typedef struct text {
    char s[NAME_SIZE];
    size_t n;
} text;

static void put_n(text *t, const char *s, size_t n)
{
    if (n > NAME_SIZE - 1 - t->n)
        n = NAME_SIZE - 1 - t->n;
    memcpy(t->s + t->n, s, n);
    t->n += n;
    t->s[t->n] = '\0';
}

static void put(text *t, const char *s)
{
    put_n(t, s, strlen(s));
}

/* Appends each string up to a NULL. */
static void put_all(text *t, ...)
{
    va_list ap;
    va_start(ap, t);
    for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *))
        put(t, s);
    va_end(ap);
}

static void clear(text *t)
{
    t->n = 0;
    t->s[0] = '\0';
}

/* "first@inner@outer@@": `first` in namespace `ns` ("outer::inner") as
 * MSVC decorates a scope. */
static void decorate_scope(text *out, const char *first, const char *ns)
{
    put(out, first);
    put(out, "@");
    const char *end = ns + strlen(ns);
    while (end > ns) {
        const char *start = end;
        while (start > ns && start[-1] != ':')
            start--;
        put_n(out, start, (size_t)(end - start));
        put(out, "@");
        end = start > ns ? start - 2 : ns;
    }
    put(out, "@");
}

/* "HttpStreamFactory" -> "http_stream_factory". */
static void snake_case(text *out, const char *camel)
{
    for (const char *p = camel; *p; p++) {
        char lower = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        if (p != camel && *p >= 'A' && *p <= 'Z')
            put(out, "_");
        put_n(out, &lower, 1);
    }
}

/* "net::quic" -> "net\\quic". */
static void namespace_path(text *out, const char *ns)
{
    for (const char *p = ns; *p; p++) {
        if (p[0] == ':' && p[1] == ':') {
            put(out, "\\");
            p++;
            continue;
        }
        put_n(out, p, 1);
    }
}

typedef struct class_info {
    const char *ns;
    text ident;              /* "HttpStreamFactory", or a template's "vector" */
    text name;               /* "net::HttpStreamFactory", or the whole instance */
    text scope;              /* "HttpStreamFactory@net@@"; empty for templates */
    text unique;             /* the TPI unique name */
    bool is_struct;
} class_info;

/* Class k without templates: namespace, then Noun[Noun]Role. */
static void plain_class(uint32_t k, class_info *c)
{
    uint64_t h = mix(k);
    clear(&c->ident), clear(&c->name), clear(&c->scope), clear(&c->unique);
    c->ns = PICK(NAMESPACES, h);
    c->is_struct = (h >> 8) % 4 == 0;
    put(&c->ident, PICK(NOUNS, h >> 12));
    if ((h >> 20) % 2)
        put(&c->ident, PICK(NOUNS, h >> 24));
    put(&c->ident, PICK(ROLES, h >> 32));
    put_all(&c->name, c->ns, "::", c->ident.s, NULL);
    decorate_scope(&c->scope, c->ident.s, c->ns);
    put(&c->unique, c->is_struct ? ".?AU" : ".?AV");
    put(&c->unique, c->scope.s);
}

/* Class k: one in six (past the first few) is a template instance over an
 * earlier plain class. */
static void describe_class(uint32_t k, class_info *c)
{
    uint64_t h = mix(k ^ 0x7E3A11CEull);
    plain_class(k, c);
    if (k < 16 || h % 6 != 0)
        return;
    class_info arg;
    plain_class((uint32_t)((h >> 8) % k), &arg);
    const char *const *t = PICK(TEMPLATES, h >> 24);
    c->ns = t[0];
    clear(&c->ident), clear(&c->name), clear(&c->scope), clear(&c->unique);
    put(&c->ident, t[1]);
    for (const char *p = t[2]; *p; p++)
        if (*p == '$')
            put(&c->name, arg.name.s);
        else
            put_n(&c->name, p, 1);
    put_all(&c->unique, ".?AV?$", t[1], "@PEAV", arg.scope.s, NULL);
    decorate_scope(&c->unique, "", t[0]);
}

typedef enum method_kind { METHOD_CONSTRUCTOR, METHOD_DESTRUCTOR, METHOD_PLAIN } method_kind;

/* A method name of class `c` chosen by `h`. */
static method_kind method_name(uint64_t h, const class_info *c, text *out)
{
    clear(out);
    switch (h % 16) {
    case 0:
        put(out, c->ident.s);
        return METHOD_CONSTRUCTOR;
    case 1:
        put_all(out, "~", c->ident.s, NULL);
        return METHOD_DESTRUCTOR;
    case 2:
        put_all(out, "On", PICK(OBJECTS, h >> 8), "Changed", NULL);
        return METHOD_PLAIN;
    default:
        put_all(out, PICK(VERBS, h >> 8), PICK(OBJECTS, h >> 16), NULL);
        return METHOD_PLAIN;
    }
}

/* "?Method@Class@ns@@QEAAXXZ", "??0Class@ns@@QEAA@XZ", "??1Class@ns@@UEAA@XZ". */
static void decorate_method(text *out, method_kind kind, const text *method,
                            const class_info *c, uint64_t h)
{
    clear(out);
    if (kind == METHOD_PLAIN) {
        put_all(out, "?", method->s, "@", NULL);
    } else {
        put(out, kind == METHOD_CONSTRUCTOR ? "??0" : "??1");
    }
    put(out, c->scope.s);
    put(out, kind == METHOD_CONSTRUCTOR ? "QEAA@XZ"
             : kind == METHOD_DESTRUCTOR ? "UEAA@XZ" : PICK(MEMBER_SIGNATURES, h));
}

/* A member variable name: "request_". */
static void member_name(uint64_t h, text *out)
{
    clear(out);
    snake_case(out, PICK(OBJECTS, h));
    put(out, h % 3 == 0 ? "_count_" : "_");
}

/* ---- The plan ------------------------------------------------------------------ */

typedef struct planned_function {
    bench_pdb_function f;    /* first: bench_pdb_function_at returns it */
    uint32_t owner;          /* methods: their class; others: a class of the module */
    uint16_t module;
    uint8_t source;          /* index into its module's files */
    bool is_method;
    bool is_static;          /* anonymous namespace: S_LPROC32, no public */
    char *public_name;       /* decorated S_PUB32 name, or NULL */
} planned_function;

typedef struct planned_module {
    char *object;            /* ModuleName */
    char *container;         /* ObjFileName: the object or the library holding it */
    uint32_t files[MODULE_FILES]; /* indices into bench_pdb_plan.files */
    size_t file_count;
    size_t first_function;
    size_t function_count;
    char *vftable;           /* its main class's vftable public, or NULL */
    char *data;              /* a static data member public, or NULL */
} planned_module;

struct bench_pdb_plan {
    planned_module *modules;
    size_t module_count;
    planned_function *functions;
    size_t function_count;
    char **files;            /* module m: 2m its .cc, 2m + 1 its .h */
    size_t file_count;
    uint32_t text_end;
    uint64_t type_bytes;
};

/* prefix + dir + "\\" + base + suffix, allocated. */
static char *module_path(const char *prefix, const char *dir, const char *base,
                         const char *suffix)
{
    text t = {{0}, 0};
    put_all(&t, prefix, dir, "\\", base, suffix, NULL);
    return synth_strdup(t.s);
}

/* Module m's sources, object and container, named after its first class:
 * d:\src\net\http_stream_factory.cc and .h, d:\build\out\obj\...obj; one
 * module in three is in a library named after its top namespace. */
static void name_module(bench_pdb_plan *p, size_t m)
{
    class_info main;
    plain_class((uint32_t)(m * CLASSES_PER_MODULE), &main);
    text dir = {{0}, 0}, base = {{0}, 0}, library = {{0}, 0};
    namespace_path(&dir, main.ns);
    snake_case(&base, main.ident.s);
    p->files[2 * m] = module_path("d:\\src\\", dir.s, base.s, ".cc");
    p->files[2 * m + 1] = module_path("d:\\src\\", dir.s, base.s, ".h");
    p->modules[m].object = module_path("d:\\build\\out\\obj\\", dir.s, base.s, ".obj");
    put(&library, "d:\\build\\out\\lib\\");
    put_n(&library, main.ns, strcspn(main.ns, ":")); /* the top namespace */
    put(&library, ".lib");
    const char *container = mix(m) % 3 == 0 ? library.s : p->modules[m].object;
    p->modules[m].container = synth_strdup(container);
}

/* Its .cc, its .h, and the headers of three other modules. */
static void choose_files(bench_pdb_plan *p, size_t m)
{
    planned_module *pm = &p->modules[m];
    uint64_t h = mix(m ^ 0xF11E5ull);
    pm->files[pm->file_count++] = (uint32_t)(2 * m);
    pm->files[pm->file_count++] = (uint32_t)(2 * m + 1);
    for (int k = 0; k < MODULE_FILES - 2; k++, h >>= 16) {
        uint32_t header = (uint32_t)(2 * (h % p->module_count) + 1);
        bool seen = false;
        for (size_t i = 0; i < pm->file_count; i++)
            seen |= pm->files[i] == header;
        if (!seen)
            pm->files[pm->file_count++] = header;
    }
}

/* The module's data publics: its main class's vftable and a static member. */
static void module_publics(bench_pdb_plan *p, size_t m)
{
    class_info main;
    describe_class((uint32_t)(m * CLASSES_PER_MODULE), &main);
    if (!main.scope.n)
        return;
    text name = {{0}, 0};
    put_all(&name, "??_7", main.scope.s, "6B@", NULL);
    p->modules[m].vftable = synth_strdup(name.s);
    clear(&name);
    put_all(&name, "?kInstanceCount@", main.scope.s, "2HA", NULL);
    p->modules[m].data = synth_strdup(name.s);
}

/* The name and public of a function of module f->module: a method of one
 * of its `classes` classes, a free function in a namespace, or a function
 * in an anonymous namespace. */
static void name_function(planned_function *f, uint64_t h, uint32_t classes)
{
    text name = {{0}, 0}, decorated = {{0}, 0}, method;
    uint32_t first_class = f->module * CLASSES_PER_MODULE;
    f->owner = first_class + (uint32_t)((h >> 8) % classes);
    class_info c;
    describe_class(f->owner, &c);
    f->is_static = h % 20 == 0;
    f->is_method = h % 20 > 1;
    if (f->is_method) {
        method_kind kind = method_name(h >> 16, &c, &method);
        put_all(&name, c.name.s, "::", method.s, NULL);
        if (c.scope.n)
            decorate_method(&decorated, kind, &method, &c, h >> 40);
    } else {
        clear(&method);
        put_all(&method, PICK(VERBS, h >> 16), PICK(OBJECTS, h >> 24), NULL);
        put_all(&name, f->is_static ? "`anonymous namespace'" : c.ns, "::", method.s, NULL);
        if (!f->is_static) {
            put(&decorated, "?");
            decorate_scope(&decorated, method.s, c.ns);
            put(&decorated, PICK(FREE_SIGNATURES, h >> 40));
        }
    }
    f->f.name = synth_strdup(name.s);
    f->public_name = decorated.n ? synth_strdup(decorated.s) : NULL;
}

/* Places `f` at *rva (advanced past it, 16-byte aligned) with its size,
 * source file and lines; *line is the next free line of the module's .cc. */
static void place_function(bench_pdb_plan *p, planned_function *f, uint64_t h, uint32_t *rva,
                           uint32_t *line)
{
    const planned_module *pm = &p->modules[f->module];
    f->f.rva = *rva;
    f->f.size = 0x20 + (uint32_t)((h >> 16) % 0x60) * (1 + (uint32_t)((h >> 24) % 8));
    f->f.line_count = 2 + f->f.size / 32 < 40 ? 2 + f->f.size / 32 : 40;
    bool in_header = (h >> 32) % 100 >= 85;
    f->source = (uint8_t)(in_header ? 1 + (h >> 40) % (pm->file_count - 1) : 0);
    f->f.file = p->files[pm->files[f->source]];
    if (in_header) {
        f->f.first_line = 10 + (uint32_t)((h >> 44) % 3000);
    } else {
        f->f.first_line = *line;
        *line = bench_pdb_line(&f->f, f->f.size - 1) + 4 + (uint32_t)((h >> 48) % 12);
    }
    *rva = (*rva + f->f.size + 15) & ~15u;
}

static void plan_module(bench_pdb_plan *p, size_t m, uint32_t *rva)
{
    planned_module *pm = &p->modules[m];
    uint64_t h = mix(m ^ 0x3D0Dull);
    uint32_t classes = 1 + (uint32_t)(h % 6), line = 24;
    choose_files(p, m);
    module_publics(p, m);
    pm->first_function = p->function_count;
    pm->function_count = 40 + (h >> 8) % (MAX_FUNCTIONS_PER_MODULE - 39);
    for (size_t j = 0; j < pm->function_count; j++) {
        planned_function *f = &p->functions[p->function_count++];
        uint64_t fh = mix(h + j);
        f->module = (uint16_t)m;
        name_function(f, fh, classes);
        place_function(p, f, mix(fh), rva, &line);
    }
}

bench_pdb_plan *bench_pdb_plan_make(size_t modules, uint64_t type_bytes)
{
    if (modules < 1 || modules > MAX_MODULES) {
        fprintf(stderr, "dt-bench: %zu PDB modules (1..%d)\n", modules, MAX_MODULES);
        exit(2);
    }
    bench_pdb_plan *p = synth_alloc(sizeof *p);
    p->module_count = modules;
    p->type_bytes = type_bytes;
    p->modules = synth_alloc(modules * sizeof *p->modules);
    p->functions = synth_alloc(modules * MAX_FUNCTIONS_PER_MODULE * sizeof *p->functions);
    p->file_count = 2 * modules;
    p->files = synth_alloc(p->file_count * sizeof *p->files);
    uint32_t rva = TEXT_RVA;
    for (size_t m = 0; m < modules; m++)
        name_module(p, m); /* first: procedures may be in any module's header */
    for (size_t m = 0; m < modules; m++)
        plan_module(p, m, &rva);
    p->text_end = rva;
    return p;
}

void bench_pdb_plan_free(bench_pdb_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->function_count; i++) {
        free((char *)p->functions[i].f.name);
        free(p->functions[i].public_name);
    }
    for (size_t m = 0; m < p->module_count; m++) {
        free(p->modules[m].object);
        free(p->modules[m].container);
        free(p->modules[m].vftable);
        free(p->modules[m].data);
    }
    for (size_t i = 0; i < p->file_count; i++)
        free(p->files[i]);
    free(p->files);
    free(p->functions);
    free(p->modules);
    free(p);
}

size_t bench_pdb_function_count(const bench_pdb_plan *p)
{
    return p->function_count;
}

const bench_pdb_function *bench_pdb_function_at(const bench_pdb_plan *p, size_t i)
{
    return &p->functions[i].f;
}

/* Statement i is at offset i * size / line_count, on line first_line + i +
 * i / 3 (every third statement skips a line). */
static uint32_t statement_offset(const bench_pdb_function *f, uint32_t i)
{
    return (uint32_t)((uint64_t)i * f->size / f->line_count);
}

uint32_t bench_pdb_line(const bench_pdb_function *f, uint32_t offset)
{
    uint32_t i = f->line_count - 1;
    while (i > 0 && statement_offset(f, i) > offset)
        i--;
    return f->first_line + i + i / 3;
}

/* ---- Types ----------------------------------------------------------------------- */

/* The records of class k, in this order, at known type indices. */
enum {
    T_FORWARD, T_POINTER, T_CONST, T_CONST_POINTER, T_ARGS, T_METHOD, T_FUNCTION, T_FIELDS,
    T_DEFINITION, T_ENUM_FIELDS, T_ENUM, TYPES_PER_CLASS
};

static uint32_t class_type(uint32_t k, int record)
{
    return SYNTH_PDB_FIRST_TYPE + k * TYPES_PER_CLASS + (uint32_t)record;
}

/* A member or parameter type: a simple type, or a pointer to class k or
 * an earlier one. */
static uint32_t value_type(uint64_t h, uint32_t k, int pointer_record)
{
    return h % 3 ? PICK(SIMPLE_TYPES, h >> 8)
                 : class_type((uint32_t)((h >> 8) % (k + 1)), pointer_record);
}

/* LF_FIELDLIST of members and methods; returns the field count. */
static uint16_t class_fields(synth_pdb_types *t, uint32_t k, const class_info *c, uint64_t h,
                             uint32_t *size)
{
    text name;
    uint16_t members = (uint16_t)(2 + h % 10), methods = (uint16_t)(1 + (h >> 8) % 6);
    synth_pdb_type_begin(t, SYNTH_LF_FIELDLIST);
    for (uint16_t i = 0; i < members; i++) {
        uint64_t mh = mix(h + i);
        member_name(mh, &name);
        synth_pdb_field_member(t, value_type(mh >> 16, k, T_POINTER), 8u * i, name.s);
    }
    for (uint16_t i = 0; i < methods; i++) {
        method_name(mix(h ^ (0x400u + i)), c, &name);
        synth_pdb_field_method(t, class_type(k, T_METHOD), name.s);
    }
    synth_pdb_type_end(t);
    *size = 8u * members;
    return (uint16_t)(members + methods);
}

/* The enum nested in class k: "Class::State" with kIdle-style values. */
static void class_enum(synth_pdb_types *t, const class_info *c, uint64_t h)
{
    text name = {{0}, 0}, unique = {{0}, 0}, value;
    uint16_t count = (uint16_t)(2 + h % 8);
    synth_pdb_type_begin(t, SYNTH_LF_FIELDLIST);
    for (uint16_t i = 0; i < count; i++) {
        clear(&value);
        put_all(&value, "k", PICK(OBJECTS, mix(h + i)), NULL);
        synth_pdb_field_enumerate(t, i, value.s);
    }
    synth_pdb_type_end(t);
    const char *enum_name = PICK(ENUM_NAMES, h >> 8);
    put_all(&name, c->name.s, "::", enum_name, NULL);
    put_all(&unique, ".?AW4", enum_name, "@", c->scope.n ? c->scope.s : c->ident.s, NULL);
    synth_pdb_udt e = {.leaf = SYNTH_LF_ENUM, .field_count = count,
                       .fields = t->next_index - 1, .underlying = SYNTH_T_INT4,
                       .name = name.s, .unique_name = unique.s};
    synth_pdb_type_udt(t, &e);
}

/* The TYPES_PER_CLASS records of class k, in the order of T_FORWARD..T_ENUM. */
static void class_types(synth_pdb_types *t, uint32_t k)
{
    class_info c;
    describe_class(k, &c);
    uint64_t h = mix(k ^ 0x7F9E5ull);
    uint16_t leaf = c.is_struct ? SYNTH_LF_STRUCTURE : SYNTH_LF_CLASS;
    synth_pdb_udt u = {.leaf = leaf, .forward = true, .name = c.name.s,
                       .unique_name = c.unique.s};
    synth_pdb_type_udt(t, &u);
    synth_pdb_type_pointer(t, class_type(k, T_FORWARD));
    synth_pdb_type_const(t, class_type(k, T_FORWARD));
    synth_pdb_type_pointer(t, class_type(k, T_CONST));
    uint32_t args[3];
    uint16_t arg_count = (uint16_t)(h % 4);
    for (uint16_t i = 0; i < arg_count; i++)
        args[i] = value_type(mix(h + i), k, T_CONST_POINTER);
    synth_pdb_type_arglist(t, args, arg_count);
    uint32_t returns = PICK(RETURN_TYPES, h >> 8);
    synth_pdb_type_mfunction(t, returns, class_type(k, T_FORWARD), class_type(k, T_POINTER),
                             class_type(k, T_ARGS), arg_count);
    synth_pdb_type_procedure(t, returns, class_type(k, T_ARGS), arg_count);
    u.forward = false;
    u.field_count = class_fields(t, k, &c, mix(h), &u.size);
    u.fields = class_type(k, T_FIELDS);
    synth_pdb_type_udt(t, &u);
    class_enum(t, &c, mix(h + 1));
    if (t->next_index != class_type(k + 1, T_FORWARD))
        synth_fail("bench PDB: class %u wrote %u type records", k,
                   t->next_index - class_type(k, T_FORWARD));
}

/* Classes until the records reach the size asked for (and at least every
 * module's classes). */
static void write_types(const bench_pdb_plan *p, synth_pdb_types *t)
{
    uint32_t needed = (uint32_t)(p->module_count * CLASSES_PER_MODULE);
    synth_pdb_types_init(t);
    for (uint32_t k = 0; k < needed || t->stream.size < p->type_bytes; k++)
        class_types(t, k);
    synth_pdb_types_finish(t);
}

/* ---- The other streams --------------------------------------------------------- */

typedef struct pdb_streams {
    synth_buf streams[ST_FIRST_MODULE + MAX_MODULES];
    uint32_t *symbols_sizes; /* per module: SymByteSize */
    uint32_t *c13_sizes;
    uint32_t *file_names;    /* per file: its offset in /names */
    uint32_t type_count;
} pdb_streams;

/* S_GPROC32 or S_LPROC32, S_FRAMEPROC, S_REGREL32 for `this` and the
 * parameters, S_END. */
static void function_symbols(synth_buf *b, const planned_function *f)
{
    uint64_t h = mix(f->f.rva);
    uint32_t frame = 0x28 + 16 * (uint32_t)(h % 8);
    synth_pdb_proc proc = {.kind = f->is_static ? SYNTH_S_LPROC32 : SYNTH_S_GPROC32,
                           .segment = 1, .offset = f->f.rva - TEXT_RVA,
                           .code_size = f->f.size, .debug_start = 4 + (uint32_t)(h >> 8) % 12,
                           .debug_end = f->f.size - 1,
                           .type = class_type(f->owner, f->is_method ? T_METHOD : T_FUNCTION),
                           .name = f->f.name};
    size_t at = synth_pdb_sym_proc(b, &proc);
    synth_pdb_sym_frameproc(b, frame);
    if (f->is_method)
        synth_pdb_sym_regrel32(b, frame + 8, class_type(f->owner, T_POINTER), "this");
    text name;
    for (uint32_t i = 0; i < (h >> 16) % 3; i++) {
        member_name(mix(h + i), &name);
        name.s[name.n - 1] = '\0'; /* parameters have no trailing underscore */
        synth_pdb_sym_regrel32(b, frame + 16 + 8 * i, PICK(SIMPLE_TYPES, h >> (24 + 4 * i)),
                               name.s);
    }
    synth_pdb_sym_end(b, at);
}

/* Statements of `f`, as bench_pdb_line describes them. */
static void function_lines(synth_buf *b, const planned_function *f, const uint32_t *file_ids)
{
    synth_pdb_line lines[40];
    for (uint32_t i = 0; i < f->f.line_count; i++)
        lines[i] = (synth_pdb_line){statement_offset(&f->f, i), f->f.first_line + i + i / 3};
    synth_pdb_c13_lines(b, 1, f->f.rva - TEXT_RVA, f->f.size, file_ids[f->source], lines,
                        f->f.line_count);
}

/* Module m's symbol stream: S_OBJNAME, S_COMPILE3, its procedures, then
 * C13 file checksums (MD5) and lines. */
static void module_stream(const bench_pdb_plan *p, size_t m, pdb_streams *out)
{
    const planned_module *pm = &p->modules[m];
    synth_buf *b = &out->streams[ST_FIRST_MODULE + m];
    synth_pdb_module_begin(b);
    synth_pdb_sym_objname(b, pm->object);
    synth_pdb_sym_compile3(b, "Microsoft (R) Optimizing Compiler");
    for (size_t j = 0; j < pm->function_count; j++)
        function_symbols(b, &p->functions[pm->first_function + j]);
    out->symbols_sizes[m] = (uint32_t)b->size;
    uint8_t md5[MODULE_FILES][16];
    synth_pdb_source sources[MODULE_FILES];
    uint32_t file_ids[MODULE_FILES];
    for (size_t i = 0; i < pm->file_count; i++) {
        for (int k = 0; k < 16; k++)
            md5[i][k] = (uint8_t)(mix(pm->files[i] * 16ull + (uint64_t)k) >> 32);
        sources[i] = (synth_pdb_source){out->file_names[pm->files[i]], 1, 16, md5[i]};
    }
    synth_pdb_c13_checksums(b, sources, pm->file_count, file_ids);
    for (size_t j = 0; j < pm->function_count; j++)
        function_lines(b, &p->functions[pm->first_function + j], file_ids);
    out->c13_sizes[m] = synth_pdb_module_end(b, out->symbols_sizes[m]);
}

static void names_stream(const bench_pdb_plan *p, pdb_streams *out)
{
    synth_pdb_names names;
    synth_pdb_names_init(&names);
    for (size_t i = 0; i < p->file_count; i++)
        out->file_names[i] = synth_pdb_names_add(&names, p->files[i]);
    synth_pdb_names_stream(&out->streams[ST_NAMES], &names);
    synth_pdb_names_free(&names);
}

/* Where .rdata and .data go, after .text. */
static uint32_t rdata_rva(const bench_pdb_plan *p)
{
    return (p->text_end + 0xFFF) & ~0xFFFu;
}

static uint32_t data_rva(const bench_pdb_plan *p)
{
    return rdata_rva(p) + (((uint32_t)p->module_count * RDATA_PER_MODULE + 0xFFF) & ~0xFFFu);
}

/* .text, .rdata, .data (with 64 KiB of uninitialized data), .pdata,
 * .rsrc, .reloc. */
static void section_headers(const bench_pdb_plan *p, synth_buf *b)
{
    uint32_t data = data_rva(p), data_size = (uint32_t)p->module_count * DATA_PER_MODULE;
    uint32_t pdata = (data + data_size + 0x10000 + 0xFFF) & ~0xFFFu;
    uint32_t pdata_size = (uint32_t)p->function_count * 12;
    uint32_t rsrc = (pdata + pdata_size + 0xFFF) & ~0xFFFu;
    synth_pdb_section_header(b, ".text", TEXT_RVA, p->text_end - TEXT_RVA, 0x60000020);
    synth_pdb_section_header(b, ".rdata", rdata_rva(p),
                             (uint32_t)p->module_count * RDATA_PER_MODULE, 0x40000040);
    synth_pdb_section_header(b, ".data", data, data_size + 0x10000, 0xC0000040);
    synth_pdb_section_header(b, ".pdata", pdata, pdata_size, 0x40000040);
    synth_pdb_section_header(b, ".rsrc", rsrc, 0x2000, 0x40000040);
    synth_pdb_section_header(b, ".reloc", rsrc + 0x2000, 0x1000, 0x42000040);
}

/* A public per procedure that has one, then each module's vftable and
 * static member. */
static void publics_streams(const bench_pdb_plan *p, pdb_streams *out)
{
    size_t most = p->function_count + 2 * p->module_count;
    synth_pdb_public *list = synth_alloc(most * sizeof *list);
    size_t n = 0;
    for (size_t i = 0; i < p->function_count; i++)
        if (p->functions[i].public_name)
            list[n++] = (synth_pdb_public){1, p->functions[i].f.rva - TEXT_RVA, 2,
                                           p->functions[i].public_name};
    for (size_t m = 0; m < p->module_count; m++) {
        if (!p->modules[m].vftable)
            continue;
        list[n++] = (synth_pdb_public){2, (uint32_t)m * RDATA_PER_MODULE, 0,
                                       p->modules[m].vftable};
        list[n++] = (synth_pdb_public){3, (uint32_t)m * DATA_PER_MODULE, 0, p->modules[m].data};
    }
    synth_pdb_publics(&out->streams[ST_PUBLICS], &out->streams[ST_SYMREC], list, n);
    free(list);
}

/* Section contributions: one per procedure (as with /Gy), then each
 * module's .rdata and .data; in section:offset order. */
static synth_pdb_contribution *contributions(const bench_pdb_plan *p, size_t *count)
{
    size_t most = p->function_count + 2 * p->module_count;
    synth_pdb_contribution *c = synth_alloc(most * sizeof *c);
    size_t n = 0;
    for (size_t i = 0; i < p->function_count; i++)
        c[n++] = (synth_pdb_contribution){1, p->functions[i].f.rva - TEXT_RVA,
                                          p->functions[i].f.size, 0x60000020,
                                          p->functions[i].module};
    for (size_t m = 0; m < p->module_count; m++)
        c[n++] = (synth_pdb_contribution){2, (uint32_t)m * RDATA_PER_MODULE, RDATA_PER_MODULE,
                                          0x40000040, (uint16_t)m};
    for (size_t m = 0; m < p->module_count; m++)
        c[n++] = (synth_pdb_contribution){3, (uint32_t)m * DATA_PER_MODULE, DATA_PER_MODULE,
                                          0xC0000040, (uint16_t)m};
    *count = n;
    return c;
}

static void dbi_stream(const bench_pdb_plan *p, pdb_streams *out)
{
    synth_pdb_module_info *infos = synth_alloc(p->module_count * sizeof *infos);
    const char *(*sources)[MODULE_FILES] = synth_alloc(p->module_count * sizeof *sources);
    size_t count;
    synth_pdb_contribution *c = contributions(p, &count);
    for (size_t m = 0; m < p->module_count; m++) {
        const planned_module *pm = &p->modules[m];
        for (size_t i = 0; i < pm->file_count; i++)
            sources[m][i] = p->files[pm->files[i]];
        infos[m] = (synth_pdb_module_info){pm->object, pm->container,
                                           (uint16_t)(ST_FIRST_MODULE + m),
                                           out->symbols_sizes[m], out->c13_sizes[m], sources[m],
                                           pm->file_count, c[pm->first_function]};
    }
    synth_pdb_dbi d;
    synth_pdb_dbi_init(&d);
    d.publics_stream = ST_PUBLICS;
    d.records_stream = ST_SYMREC;
    d.modules = infos, d.module_count = p->module_count;
    d.contributions = c, d.contribution_count = count;
    d.debug_streams[SYNTH_PDB_DEBUG_SECTION_HEADERS] = ST_SECTIONS;
    synth_pdb_dbi_stream(&out->streams[ST_DBI], &d);
    free(c);
    free(sources);
    free(infos);
}

static void build_streams(const bench_pdb_plan *p, pdb_streams *out)
{
    static const synth_pdb_identity identity = {
        .signature = 0x5F3E2A10, .age = 1,
        .guid = {0x3B, 0x1F, 0x6C, 0x0D, 0x52, 0xA4, 0x47, 0x9E, 0x8B, 0x21, 0x0C, 0x5D, 0x77,
                 0xE3, 0x90, 0x14}};
    out->symbols_sizes = synth_alloc(p->module_count * sizeof *out->symbols_sizes);
    out->c13_sizes = synth_alloc(p->module_count * sizeof *out->c13_sizes);
    out->file_names = synth_alloc(p->file_count * sizeof *out->file_names);
    synth_pdb_info_stream(&out->streams[ST_INFO], &identity, ST_NAMES);
    names_stream(p, out);
    for (size_t m = 0; m < p->module_count; m++)
        module_stream(p, m, out);
    dbi_stream(p, out);
    section_headers(p, &out->streams[ST_SECTIONS]);
    publics_streams(p, out);
    synth_pdb_types tpi, ipi;
    write_types(p, &tpi);
    out->streams[ST_TPI] = tpi.stream;
    out->type_count = tpi.next_index - SYNTH_PDB_FIRST_TYPE;
    synth_pdb_types_init(&ipi);
    synth_pdb_types_finish(&ipi);
    out->streams[ST_IPI] = ipi.stream;
}

static void describe_layout(const bench_pdb_plan *p, const pdb_streams *s,
                            const synth_msf_stream *msf, bench_pdb_layout *out)
{
    static const int lookup[] = {ST_INFO, ST_DBI, ST_SECTIONS, ST_NAMES};
    out->tpi_size = s->streams[ST_TPI].size;
    out->tpi_offset = (uint64_t)msf[ST_TPI].first_block * BLOCK_SIZE;
    out->tpi_span = (uint64_t)(msf[ST_DBI].first_block - msf[ST_TPI].first_block) * BLOCK_SIZE;
    out->type_count = s->type_count;
    out->lookup_size = 0;
    for (size_t i = 0; i < COUNT(lookup); i++)
        out->lookup_size += s->streams[lookup[i]].size;
    for (size_t m = 0; m < p->module_count; m++)
        out->lookup_size += s->streams[ST_FIRST_MODULE + m].size;
    out->publics_size = s->streams[ST_PUBLICS].size + s->streams[ST_SYMREC].size;
}

/* Builds the streams, writes and syncs the file; false on a write error. */
static bool write_pdb(const bench_pdb_plan *p, const char *path, bench_pdb_layout *layout)
{
    pdb_streams *s = synth_alloc(sizeof *s);
    size_t count = ST_FIRST_MODULE + p->module_count;
    build_streams(p, s);
    synth_msf_stream *msf = synth_alloc(count * sizeof *msf);
    for (size_t i = 0; i < count; i++)
        msf[i] = (synth_msf_stream){s->streams[i].data, s->streams[i].size, false, 0};
    bool ok = synth_msf_write_file(path, msf, count, BLOCK_SIZE) == 0;
    int fd = ok ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    ok = ok && fd >= 0 && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    describe_layout(p, s, msf, layout);
    layout->file_size = bench_file_size(path);
    for (size_t i = 0; i < count; i++)
        synth_buf_free(&s->streams[i]);
    free(s->symbols_sizes), free(s->c13_sizes), free(s->file_names), free(msf), free(s);
    return ok;
}

bool bench_pdb_write(const bench_pdb_plan *p, const char *path, bench_pdb_layout *layout)
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("dt-bench: pipe");
        return false;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        bool written = write_pdb(p, path, layout);
        _exit(written && write(fds[1], layout, sizeof *layout) == (ssize_t)sizeof *layout ? 0
                                                                                           : 1);
    }
    close(fds[1]);
    bool ok = pid > 0 && read(fds[0], layout, sizeof *layout) == (ssize_t)sizeof *layout;
    close(fds[0]);
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        continue;
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok)
        fprintf(stderr, "dt-bench: cannot write %s\n", path);
    return ok;
}
