/* cppo-notifyctl — subcommands. Each lives in cmd/cppo-notifyctl/<name>.c
 * and is called with argv[0] = its own name.
 *
 * Exit codes, for every subcommand:
 *   0  success
 *   1  the command ran and found a problem (rejected input, invalid config,
 *      failed delivery, not found)
 *   2  usage error (unknown option, missing argument)
 *   3  internal failure (store unreadable, out of memory)
 */
#ifndef CPPO_CTL_H
#define CPPO_CTL_H

enum {
        CTL_EXIT_OK = 0,
        CTL_EXIT_PROBLEM = 1,
        CTL_EXIT_USAGE = 2,
        CTL_EXIT_INTERNAL = 3,
};

struct ctl_command {
        const char *name;
        const char *summary;
        int (*run)(int argc, char **argv);
};

/* One declaration per subcommand, one per line. */
int ctl_check(int argc, char **argv);
int ctl_deliveries(int argc, char **argv);
int ctl_explain(int argc, char **argv);
int ctl_rejected(int argc, char **argv);
int ctl_send_test(int argc, char **argv);
int ctl_replay(int argc, char **argv);
int ctl_authorization(int argc, char **argv);
int ctl_associate(int argc, char **argv);
int ctl_holds(int argc, char **argv);
int ctl_unlink(int argc, char **argv);
int ctl_links(int argc, char **argv);
int ctl_receivers(int argc, char **argv);
int ctl_aws(int argc, char **argv);
int ctl_store(int argc, char **argv);

#endif
