/* cppo-notify — error helpers (see include/cppo/error.h for the convention). */
#include "cppo/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* One per thread: a failure is traced on the thread it travels up. */
static _Thread_local struct error_origin last;

int error_set(char *err, size_t errlen, int code, const char *fmt, ...)
{
        va_list ap;

        if (err == NULL || errlen == 0)
                return code;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        return code;
}

const char *error_name(int code)
{
        switch (-code) {
        case 0: return "OK";
        case EINVAL: return "EINVAL";
        case ENOMEM: return "ENOMEM";
        case E2BIG: return "E2BIG";
        case ENOENT: return "ENOENT";
        case EEXIST: return "EEXIST";
        case EIO: return "EIO";
        case EPROTO: return "EPROTO";
        case EAGAIN: return "EAGAIN";
        case EPERM: return "EPERM";
        case EACCES: return "EACCES";
        case ETIMEDOUT: return "ETIMEDOUT";
        case ECANCELED: return "ECANCELED";
        case EBUSY: return "EBUSY";
        case ENOTSUP: return "ENOTSUP";
        case ERANGE: return "ERANGE";
        case EBADMSG: return "EBADMSG";
        case ECONNREFUSED: return "ECONNREFUSED";
        case ENOSPC: return "ENOSPC";
        case EROFS: return "EROFS";
        case ESTALE: return "ESTALE";
        default: return "E?";
        }
}

int error_trace(int code, const char *file, int line, const char *func)
{
        if (code >= 0 || (last.code == code && last.file != NULL))
                return code; /* no failure, or the same one seen deeper */
        last = (struct error_origin){ code, file, line, func };
        return code;
}

const struct error_origin *error_origin(int code)
{
        return code < 0 && last.code == code && last.file != NULL ? &last : NULL;
}

void error_origin_clear(void)
{
        last = (struct error_origin){ 0 };
}

const char *error_origin_format(int code, char *buf, size_t len)
{
        const struct error_origin *o = error_origin(code);
        const char *base = o != NULL ? strrchr(o->file, '/') : NULL;

        if (len == 0)
                return buf;
        if (o == NULL)
                snprintf(buf, len, "unknown");
        else
                snprintf(buf, len, "%s:%d", base != NULL ? base + 1 : o->file, o->line);
        return buf;
}
