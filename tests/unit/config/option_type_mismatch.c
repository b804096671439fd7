/* Must not compile: a duration row over a member that is not an int64_t
 * (the host would write 8 bytes into an int). CTest compiles it twice:
 * as it is, expecting the macro's error, and with the right type
 * (-DRIGHT_TYPE), expecting success. */
#include <rdapsync/rdapsync.h>

typedef struct wrong_config {
#ifdef RIGHT_TYPE
    int64_t timeout;
#else
    int timeout;
#endif
} wrong_config;

const rdapsync_option wrong_options[] = {
    { RDAPSYNC_OPTION_DURATION(wrong_config, timeout, "5s", 0, 0, "how long") },
    RDAPSYNC_OPTIONS_END,
};
