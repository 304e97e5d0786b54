/* Names for codes found in dumps: NTSTATUS exception codes, MINIDUMP_TYPE
 * flags, Windows versions and platforms. */
#include "dumptriage/dump.h"

#include <stddef.h>

static const struct { uint32_t code; const char *name; } exception_names[] = {
    {0x20474343, "GCC_CPP_EXCEPTION"},
    {0x40010005, "DBG_CONTROL_C"},
    {0x406D1388, "MS_VC_SET_THREAD_NAME"},
    {0x4000001F, "STATUS_WX86_BREAKPOINT"},
    {0x80000002, "EXCEPTION_DATATYPE_MISALIGNMENT"},
    {0x80000003, "EXCEPTION_BREAKPOINT"},
    {0x80000004, "EXCEPTION_SINGLE_STEP"},
    {0xC0000005, "EXCEPTION_ACCESS_VIOLATION"},
    {0xC0000006, "EXCEPTION_IN_PAGE_ERROR"},
    {0xC0000008, "EXCEPTION_INVALID_HANDLE"},
    {0xC000000D, "STATUS_INVALID_PARAMETER"},
    {0xC0000017, "STATUS_NO_MEMORY"},
    {0xC000001D, "EXCEPTION_ILLEGAL_INSTRUCTION"},
    {0xC0000025, "EXCEPTION_NONCONTINUABLE_EXCEPTION"},
    {0xC0000026, "EXCEPTION_INVALID_DISPOSITION"},
    {0xC000008C, "EXCEPTION_ARRAY_BOUNDS_EXCEEDED"},
    {0xC000008D, "EXCEPTION_FLT_DENORMAL_OPERAND"},
    {0xC000008E, "EXCEPTION_FLT_DIVIDE_BY_ZERO"},
    {0xC000008F, "EXCEPTION_FLT_INEXACT_RESULT"},
    {0xC0000090, "EXCEPTION_FLT_INVALID_OPERATION"},
    {0xC0000091, "EXCEPTION_FLT_OVERFLOW"},
    {0xC0000092, "EXCEPTION_FLT_STACK_CHECK"},
    {0xC0000093, "EXCEPTION_FLT_UNDERFLOW"},
    {0xC0000094, "EXCEPTION_INT_DIVIDE_BY_ZERO"},
    {0xC0000095, "EXCEPTION_INT_OVERFLOW"},
    {0xC0000096, "EXCEPTION_PRIV_INSTRUCTION"},
    {0xC00000FD, "EXCEPTION_STACK_OVERFLOW"},
    {0xC0000135, "STATUS_DLL_NOT_FOUND"},
    {0xC0000142, "STATUS_DLL_INIT_FAILED"},
    {0xC0000194, "EXCEPTION_POSSIBLE_DEADLOCK"},
    {0xC0000374, "STATUS_HEAP_CORRUPTION"},
    {0xC0000409, "STATUS_STACK_BUFFER_OVERRUN"},
    {0xC0000420, "STATUS_ASSERTION_FAILURE"},
    {0xC0000602, "STATUS_FAIL_FAST_EXCEPTION"},
    {0xE0434352, "CLR_EXCEPTION"},
    {0xE0434F4D, "CLR_EXCEPTION_V1"},
    {0xE06D7363, "CPP_EH_EXCEPTION"},
};

const char *dt_exception_code_name(uint32_t code)
{
    for (size_t i = 0; i < sizeof exception_names / sizeof exception_names[0]; i++)
        if (exception_names[i].code == code)
            return exception_names[i].name;
    return NULL;
}

static const char *const minidump_flag_names[] = {
    "WithDataSegs", "WithFullMemory", "WithHandleData", "FilterMemory",
    "ScanMemory", "WithUnloadedModules", "WithIndirectlyReferencedMemory",
    "FilterModulePaths", "WithProcessThreadData", "WithPrivateReadWriteMemory",
    "WithoutOptionalData", "WithFullMemoryInfo", "WithThreadInfo", "WithCodeSegs",
    "WithoutAuxiliaryState", "WithFullAuxiliaryState", "WithPrivateWriteCopyMemory",
    "IgnoreInaccessibleMemory", "WithTokenInformation", "WithModuleHeaders",
    "FilterTriage", "WithAvxXStateContext", "WithIptTrace", "ScanInaccessiblePartialPages",
    "FilterWriteCombinedMemory"};

const char *dt_minidump_flag_name(unsigned bit)
{
    return bit < sizeof minidump_flag_names / sizeof minidump_flag_names[0]
               ? minidump_flag_names[bit] : NULL;
}

static const char *windows_10_or_later(const dt_system_info *s, bool server)
{
    if (!server)
        return s->build >= 22000 ? "Windows 11" : "Windows 10";
    if (s->build >= 26100)
        return "Windows Server 2025";
    if (s->build >= 20348)
        return "Windows Server 2022";
    if (s->build >= 17763)
        return "Windows Server 2019";
    return s->build >= 14393 ? "Windows Server 2016" : "Windows Server";
}

const char *dt_os_name(const dt_system_info *s)
{
    /* ProductType 1 = VER_NT_WORKSTATION; 2, 3 = domain controller, server. */
    bool server = s->product_type > 1;
    if (s->platform_id != 2) {
        switch (s->platform_id) {
        case 0x8101: return "macOS";
        case 0x8102: return "iOS";
        case 0x8201: return "Linux";
        case 0x8202: return "Solaris";
        case 0x8203: return "Android";
        case 0x8206: return "Fuchsia";
        default: return "unknown";
        }
    }
    uint32_t v = s->major * 100 + s->minor;
    switch (v) {
    case 500: return "Windows 2000";
    case 501: return "Windows XP";
    case 502: return server ? "Windows Server 2003" : "Windows XP x64";
    case 600: return server ? "Windows Server 2008" : "Windows Vista";
    case 601: return server ? "Windows Server 2008 R2" : "Windows 7";
    case 602: return server ? "Windows Server 2012" : "Windows 8";
    case 603: return server ? "Windows Server 2012 R2" : "Windows 8.1";
    case 1000: return windows_10_or_later(s, server);
    default: return "Windows";
    }
}
