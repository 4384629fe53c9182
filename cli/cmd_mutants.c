/*
 * cli/cmd_mutants.c - `hypsim mutants`: the seeded-bug KCore variants, and
 * how `--mutant NAME` becomes a KCore ELF path.
 *
 * The list is generated at build time from hyp/kcore/mutants.h (the one source of
 * truth: hyp/kcore/CMakeLists.txt turns its " * KC_MUTANT_<NAME>  description"
 * lines into generated/hypsim_mutants.h and builds kcore-<name>.elf for
 * each). A mutant's ELF lives next to the default KCore (machine.h:
 * machine_config_default, i.e. $HYPSIM_KCORE or the one built with hypsim).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "hypsim_mutants.h"

struct cli_mutant {
    const char *name;
    const char *desc;
};

#define CLI_MUTANT_ENTRY(n, d) { n, d },
static const struct cli_mutant cli_mutants[] = { HYPSIM_MUTANT_LIST(CLI_MUTANT_ENTRY) };
#undef CLI_MUTANT_ENTRY
#define CLI_NMUTANTS (sizeof(cli_mutants) / sizeof(cli_mutants[0]))

/* The ELF of mutant `name`: kcore-<name>.elf in the directory of the
 * default KCore. Returns 0, or EXIT_USAGE with one line on stderr (no name,
 * unknown name). */
int cli_mutant_kcore(const char *name, char *path, size_t len)
{
    struct machine_config d;
    const char *slash;
    int dirlen;
    unsigned i;

    if (!name || !*name) {
        fprintf(stderr, "hypsim: --mutant needs a name (see 'hypsim mutants')\n");
        return EXIT_USAGE;
    }
    for (i = 0; i < CLI_NMUTANTS; i++)
        if (!strcmp(cli_mutants[i].name, name))
            break;
    if (i == CLI_NMUTANTS) {
        fprintf(stderr, "hypsim: --mutant: unknown mutant '%s' (see 'hypsim mutants')\n", name);
        return EXIT_USAGE;
    }
    machine_config_default(&d);
    slash = strrchr(d.kcore_path, '/');
    dirlen = slash ? (int)(slash - d.kcore_path) : 0;
    if (snprintf(path, len, "%.*s%skcore-%s.elf", dirlen, d.kcore_path, slash ? "/" : "", name) >= (int)len) {
        fprintf(stderr, "hypsim: --mutant %s: path too long\n", name);
        return EXIT_USAGE;
    }
    return 0;
}

static void usage_mutants(FILE *f)
{
    fprintf(f,
"usage: hypsim mutants [--json]\n"
"\n"
"List the seeded-bug variants of KCore (hyp/kcore/mutants.h). Each is built from\n"
"the same sources with one -DKC_MUTANT_<NAME>=1 into kcore-<name>.elf next\n"
"to the default KCore; select one with --mutant NAME on run or explore.\n"
"\n"
"  --json            one JSON array of {name, description, elf, built}\n"
"  -h, --help        this help\n");
}

int cmd_mutants(int argc, char **argv)
{
    bool json = false;

    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage_mutants(stdout);
            return EXIT_OK;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else {
            fprintf(stderr, "hypsim: mutants: unknown option '%s' (see 'hypsim mutants --help')\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (json) {
        cJSON *a = cJSON_CreateArray();
        char *txt;
        if (!a)
            return EXIT_INTERNAL;
        for (unsigned i = 0; i < CLI_NMUTANTS; i++) {
            char path[512];
            cJSON *o = cJSON_CreateObject();
            if (!o || cli_mutant_kcore(cli_mutants[i].name, path, sizeof(path)) != 0) {
                cJSON_Delete(o);
                cJSON_Delete(a);
                return EXIT_INTERNAL;
            }
            cJSON_AddStringToObject(o, "name", cli_mutants[i].name);
            cJSON_AddStringToObject(o, "description", cli_mutants[i].desc);
            cJSON_AddStringToObject(o, "elf", path);
            cJSON_AddBoolToObject(o, "built", access(path, R_OK) == 0);
            cJSON_AddItemToArray(a, o);
        }
        txt = cJSON_PrintUnformatted(a);
        cJSON_Delete(a);
        if (!txt)
            return EXIT_INTERNAL;
        puts(txt);
        free(txt);
        return EXIT_OK;
    }
    for (unsigned i = 0; i < CLI_NMUTANTS; i++) {
        char path[512];
        if (cli_mutant_kcore(cli_mutants[i].name, path, sizeof(path)) != 0)
            return EXIT_INTERNAL;
        printf("%-22s %s%s\n", cli_mutants[i].name, cli_mutants[i].desc,
               access(path, R_OK) == 0 ? "" : " [not built]");
    }
    return EXIT_OK;
}
