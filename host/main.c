/* rdapsync: the daemon's entry point; everything else is in cli.c. */
#include <malloc.h>

#include "cli.h"

int main(int argc, char **argv)
{
#ifdef M_TRIM_THRESHOLD
    /* A task frees a whole batch of parsed documents (thousands of small
     * allocations) every cycle and allocates as many again at once: glibc's
     * default trimming hands the heap top back to the kernel and faults it
     * in again each cycle. Keeping a few MB cached is what the batch bound
     * costs anyway. */
    mallopt(M_TRIM_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TOP_PAD, 4 * 1024 * 1024);
#endif
    return cli_main(argc, argv);
}
