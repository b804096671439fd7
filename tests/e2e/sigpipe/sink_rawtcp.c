/*
 * sink-rawtcp: a test double of a network sink written the way client
 * libraries such as hiredis work. Built only for tests, never installed.
 *
 * write() only appends the batch to an output buffer, as lines (the
 * compact JSON of each record's value, then "\n"), like commands appended
 * to a hiredis pipeline. flush() sends the buffer and "COMMIT <n>\n" in one
 * stream with plain write(2) -- no MSG_NOSIGNAL, no SO_NOSIGPIPE, no signal
 * mask of its own -- then waits for "OK <n>\n". The server applies the
 * lines of a connection only at the COMMIT, and forgets them when the
 * connection drops, like a database transaction.
 *
 * So a flush into a connection the server has closed raises SIGPIPE in the
 * process, exactly as in a third-party plugin; the host must have it
 * ignored, and then write(2) fails with EPIPE, which this sink answers
 * with RETRY: it drops the connection and the buffer (the host writes the
 * same batch again) and connects again at the next flush.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <rdapsync/rdapsync.h>

static const rdapsync_host *H;

struct rawtcp_config {
    int64_t port;       /* on 127.0.0.1 */
    int64_t timeout_ms; /* a server that stops answering is a RETRY, not a hang */
};

static const rdapsync_option rawtcp_options[] = {
    {.name = "port", .type = RDAPSYNC_OPT_INT, .flags = RDAPSYNC_OPT_REQUIRED, .min = 1, .max = 65535,
     .offset = offsetof(struct rawtcp_config, port), .description = "TCP port of the line server on 127.0.0.1"},
    {.name = "timeout", .type = RDAPSYNC_OPT_DURATION, .default_value = "30s", .min = 1, .max = 600000,
     .offset = offsetof(struct rawtcp_config, timeout_ms),
     .description = "send/receive timeout of the connection"},
    {.name = NULL},
};

struct rawtcp {
    rdapsync_ctx *ctx;
    const struct rawtcp_config *cfg; /* borrowed until close() */
    int fd;                          /* -1: not connected */
    size_t pending;                  /* records in buf, written since the last flush */
    char *buf;                       /* those records as lines; owned, kept for the next batches */
    size_t buf_len, buf_cap;
};

/* The server forgets what a lost connection did not commit; the host
 * writes the batch again after the RETRY, so the buffer goes too. */
static void disconnect(struct rawtcp *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->pending = 0;
    s->buf_len = 0;
}

/* RETRY for what a server going away causes; ERROR for anything else. */
static rdapsync_status lost(struct rawtcp *s, const char *what, int error, char *err, size_t err_size)
{
    snprintf(err, err_size, "%s: %s", what, strerror(error));
    disconnect(s);
    return error == EPIPE || error == ECONNRESET || error == ECONNREFUSED || error == EAGAIN || error == ETIMEDOUT
               ? RDAPSYNC_RETRY
               : RDAPSYNC_ERROR;
}

static rdapsync_status ensure_connected(struct rawtcp *s, char *err, size_t err_size)
{
    if (s->fd >= 0)
        return RDAPSYNC_OK;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return lost(s, "socket", errno, err, err_size);
    struct timeval tv = {.tv_sec = (time_t)(s->cfg->timeout_ms / 1000),
                         .tv_usec = (suseconds_t)(s->cfg->timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->cfg->port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) != 0) {
        int error = errno;
        close(fd);
        return lost(s, "connect", error, err, err_size);
    }
    s->fd = fd;
    return RDAPSYNC_OK;
}

/* Plain write(2) on purpose: see the top of the file. */
static rdapsync_status send_all(struct rawtcp *s, const char *bytes, size_t len, char *err, size_t err_size)
{
    while (len > 0) {
        ssize_t n = write(s->fd, bytes, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return lost(s, "send", errno, err, err_size);
        }
        bytes += n;
        len -= (size_t)n;
    }
    return RDAPSYNC_OK;
}

static int append(struct rawtcp *s, const char *bytes, size_t len)
{
    if (s->buf_len + len > s->buf_cap) {
        size_t cap = s->buf_cap ? s->buf_cap : 1 << 16;
        while (cap < s->buf_len + len)
            cap *= 2;
        char *grown = realloc(s->buf, cap);
        if (!grown)
            return -1;
        s->buf = grown;
        s->buf_cap = cap;
    }
    memcpy(s->buf + s->buf_len, bytes, len);
    s->buf_len += len;
    return 0;
}

static int append_dump(const char *bytes, size_t len, void *opaque)
{
    return append(opaque, bytes, len);
}

static rdapsync_status rawtcp_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    struct rawtcp *s = calloc(1, sizeof(*s)); /* freed by rawtcp_close */
    if (!s) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    s->ctx = ctx;
    s->cfg = config;
    s->fd = -1;
    *state = s;
    return RDAPSYNC_OK;
}

static void rawtcp_close(void *state)
{
    struct rawtcp *s = state;
    if (!s)
        return;
    disconnect(s);
    free(s->buf);
    free(s);
}

static rdapsync_status rawtcp_write(void *state, const rdapsync_batch *batch, char *err, size_t err_size)
{
    struct rawtcp *s = state;
    size_t count = H->batch_count(batch), had_len = s->buf_len, had_pending = s->pending;

    for (size_t i = 0; i < count; i++) {
        const rdapsync_record *r = H->batch_get(batch, i);
        if (!r->value) {
            H->reject(s->ctx, r, "rawtcp stores documents only");
            continue;
        }
        if (H->json->dump_cb(r->value, 0, append_dump, s) != 0 || append(s, "\n", 1) != 0) {
            s->buf_len = had_len; /* nothing of this batch stays */
            s->pending = had_pending;
            snprintf(err, err_size, "out of memory");
            return RDAPSYNC_ERROR;
        }
        s->pending++;
    }
    return RDAPSYNC_OK;
}

static rdapsync_status rawtcp_flush(void *state, char *err, size_t err_size)
{
    struct rawtcp *s = state;
    char line[64], reply[64];
    size_t got = 0, committing = s->pending;

    if (committing == 0)
        return RDAPSYNC_OK;
    int len = snprintf(line, sizeof(line), "COMMIT %zu\n", committing);
    if (append(s, line, (size_t)len) != 0) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    rdapsync_status status = ensure_connected(s, err, err_size);
    if (status == RDAPSYNC_OK)
        status = send_all(s, s->buf, s->buf_len, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    while (got < sizeof(reply) - 1 && (got == 0 || reply[got - 1] != '\n')) {
        ssize_t n = read(s->fd, reply + got, sizeof(reply) - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return lost(s, "receive", errno, err, err_size);
        if (n == 0) {
            snprintf(err, err_size, "receive: the server closed the connection");
            disconnect(s);
            return RDAPSYNC_RETRY;
        }
        got += (size_t)n;
    }
    reply[got] = '\0';
    snprintf(line, sizeof(line), "OK %zu\n", committing);
    if (strcmp(reply, line) != 0) {
        snprintf(err, err_size, "unexpected reply to COMMIT %zu: %.40s", committing, reply);
        disconnect(s);
        return RDAPSYNC_ERROR;
    }
    s->pending = 0;
    s->buf_len = 0;
    return RDAPSYNC_OK;
}

static const rdapsync_plugin rawtcp_descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "rawtcp",
    .kind = RDAPSYNC_KIND_SINK,
    .version = "0.0.0",
    .description = "test double: JSON lines over TCP with plain write(2), all sent at flush",
    .options = rawtcp_options,
    .config_size = sizeof(struct rawtcp_config),
    .open = rawtcp_open,
    .close = rawtcp_close,
    .write = rawtcp_write,
    .flush = rawtcp_flush,
};

RDAPSYNC_PLUGIN_ENTRY(host)
{
    H = host;
    return &rawtcp_descriptor;
}
