/* Fuzz target: the YAML config loader on arbitrary bytes, from memory.
 * The path sits in a directory that does not exist, so no rules.d is read
 * and relative secret files are not found. */
#include "cppo/config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct config_errors errs;
        struct config *cfg = NULL;
        FILE *sink;

        if (size > CONFIG_MAX_FILE)
                return 0;
        config_errors_init(&errs);
        if (config_load_buffer(&cfg, "/nonexistent-cppo-fuzz/main.yaml", (const char *)data, size,
                               &errs) == 0 &&
            cfg == NULL)
                __builtin_trap(); /* success must hand back a config */
        /* Exercise the printer (source line and caret) on every error. */
        sink = fopen("/dev/null", "w");
        if (sink != NULL) {
                config_errors_print(&errs, sink);
                fclose(sink);
        }
        config_free(cfg);
        config_errors_deinit(&errs);
        return 0;
}
