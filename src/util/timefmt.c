/* cppo-notify — ISO-8601 parsing and formatting (see include/cppo/timefmt.h). */
#include "cppo/timefmt.h"

#include "cppo/error.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil, written out for int64). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static bool digits(const char *s, int n, int *out)
{
        int v = 0;

        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *out = v;
        return true;
}

static int days_in_month(int y, int m)
{
        static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

        return m == 2 && leap ? 29 : dim[m - 1];
}

static int parse_zone(const char *p, int *offset)
{
        int hh, mm;

        *offset = 0;
        if (strcmp(p, "Z") == 0 || strcmp(p, "z") == 0)
                return 0;
        if ((p[0] != '+' && p[0] != '-') || strlen(p) != 6 || p[3] != ':' ||
            !digits(p + 1, 2, &hh) || !digits(p + 4, 2, &mm) || hh > 23 || mm > 59)
                return -EINVAL;
        *offset = (hh * 3600 + mm * 60) * (p[0] == '-' ? -1 : 1);
        return 0;
}

int timefmt_parse(const char *s, int64_t *out)
{
        int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
        const char *p;

        if (s == NULL || strlen(s) < 10 || !digits(s, 4, &y) || s[4] != '-' ||
            !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d))
                return -EINVAL;
        if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
                return -EINVAL;
        p = s + 10;
        if (*p != '\0') {
                if ((*p != 'T' && *p != 't' && *p != ' ') || strlen(p) < 9 ||
                    !digits(p + 1, 2, &h) || p[3] != ':' || !digits(p + 4, 2, &mi) || p[6] != ':' ||
                    !digits(p + 7, 2, &sec) || h > 23 || mi > 59 || sec > 60)
                        return -EINVAL;
                p += 9;
                if (*p == '.') {
                        p++;
                        if (*p < '0' || *p > '9')
                                return -EINVAL;
                        while (*p >= '0' && *p <= '9')
                                p++;
                }
                if (parse_zone(p, &off) < 0)
                        return -EINVAL;
        }
        *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
        return 0;
}

void timefmt_format(int64_t t, char out[TIMEFMT_LEN])
{
        int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
        int64_t secs = t - days * 86400;
        /* civil_from_days, the inverse of days_from_civil above */
        int64_t z = days + 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        int d = (int)(doy - (153 * mp + 2) / 5 + 1);
        int m = (int)(mp < 10 ? mp + 3 : mp - 9);
        int64_t y = yoe + era * 400 + (m <= 2);

        if (y < 0 || y > 9999) {
                snprintf(out, TIMEFMT_LEN, "0000-00-00T00:00:00Z");
                return;
        }
        /* The modulo keeps each field's width provable to the compiler. */
        snprintf(out, TIMEFMT_LEN, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)y % 10000u,
                 (unsigned)m % 100u, (unsigned)d % 100u, (unsigned)(secs / 3600) % 100u,
                 (unsigned)(secs / 60 % 60) % 100u, (unsigned)(secs % 60) % 100u);
}
