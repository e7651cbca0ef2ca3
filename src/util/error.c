/* cppo-notify — error helpers (see include/cppo/error.h for the convention). */
#include "cppo/error.h"

#include <stdarg.h>
#include <stdio.h>

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
