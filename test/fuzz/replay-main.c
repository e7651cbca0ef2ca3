/* Replays every file of a corpus directory through LLVMFuzzerTestOneInput,
 * for builds without libFuzzer. Exits 0 when every input ran. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        uint8_t *data = NULL;
        long n;

        if (f == NULL)
                return -1;
        if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
            (data = malloc((size_t)n + 1)) == NULL || fread(data, 1, (size_t)n, f) != (size_t)n) {
                free(data);
                fclose(f);
                return -1;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(data, (size_t)n);
        free(data);
        return 0;
}

int main(int argc, char **argv)
{
        int count = 0;

        for (int i = 1; i < argc; i++) {
                DIR *d = opendir(argv[i]);
                struct dirent *e;

                if (d == NULL) {
                        fprintf(stderr, "replay: cannot open '%s'\n", argv[i]);
                        return 1;
                }
                while ((e = readdir(d)) != NULL) {
                        char path[4096];
                        if (e->d_name[0] == '.')
                                continue;
                        snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
                        if (replay_file(path) < 0) {
                                fprintf(stderr, "replay: cannot read '%s'\n", path);
                                closedir(d);
                                return 1;
                        }
                        count++;
                }
                closedir(d);
        }
        fprintf(stderr, "replayed %d inputs\n", count);
        return count > 0 ? 0 : 1;
}
