/* rdapsync: the daemon's entry point; everything else is in cli.c. */
#include <malloc.h>

#include "cli/cli.h"

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
#ifdef M_MMAP_THRESHOLD
    /* Setting the trim threshold turns off glibc's sliding mmap threshold,
     * which leaves it at 128 KB: every librdkafka fetch response buffer (up
     * to the kafka source's fetch.max.bytes, 1 MB) was then mmapped, faulted
     * in page by page and unmapped again, about one page fault per 4 KB
     * record (a sixth of kafka -> discard's CPU). Above that size they are
     * reused from the heap. */
    mallopt(M_MMAP_THRESHOLD, 2 * 1024 * 1024);
#endif
#ifdef M_ARENA_MAX
    /* Documents cross threads: parsed on a task thread, freed on its
     * transform thread after compaction, their output freed on the task
     * thread again. With an arena per thread each arena keeps the free
     * memory of the other's allocations (1.5-3 MB more per task at a
     * 1,000-record batch). One arena: large allocations take a lock that
     * is rarely contended (a few per record); small ones stay in each
     * thread's cache, lock-free. */
    mallopt(M_ARENA_MAX, 1);
#endif
    return cli_main(argc, argv);
}
