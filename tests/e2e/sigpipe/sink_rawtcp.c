/*
 * sink-rawtcp: a test double of a network sink written the way client
 * libraries such as hiredis write. Built only for tests, never installed.
 *
 * write() sends the whole batch as one stream of lines (the compact JSON of
 * each record's value, then "\n") with plain write(2): no MSG_NOSIGNAL, no
 * SO_NOSIGPIPE, no signal mask of its own. So a write to a connection the
 * server has closed raises SIGPIPE in the process, exactly as in a
 * third-party plugin; the host must have it ignored, and then write(2)
 * fails with EPIPE, which this sink answers with RETRY.
 *
 * flush() sends "COMMIT <n>\n" and waits for "OK <n>\n": the server applies
 * the lines of a connection only then, and forgets them when the
 * connection drops, like a database transaction.
 *
 * A lost connection is closed and reopened at the next call; the host
 * writes the same batch again after a RETRY, so nothing is lost.
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
    size_t pending;                  /* records sent on this connection since its last COMMIT */
    char *buf;                       /* one batch as lines; owned, reused across writes */
    size_t buf_len, buf_cap;
};

static void disconnect(struct rawtcp *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->pending = 0; /* the server drops what a lost connection did not commit */
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
    s->pending = 0;
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
    size_t count = H->batch_count(batch), sent = 0;

    s->buf_len = 0;
    for (size_t i = 0; i < count; i++) {
        const rdapsync_record *r = H->batch_get(batch, i);
        if (!r->value) {
            H->reject(s->ctx, r, "rawtcp stores documents only");
            continue;
        }
        if (H->json->dump_cb(r->value, 0, append_dump, s) != 0 || append(s, "\n", 1) != 0) {
            snprintf(err, err_size, "out of memory");
            return RDAPSYNC_ERROR;
        }
        sent++;
    }
    rdapsync_status status = ensure_connected(s, err, err_size);
    if (status == RDAPSYNC_OK)
        status = send_all(s, s->buf, s->buf_len, err, err_size);
    if (status != RDAPSYNC_OK)
        return status;
    s->pending += sent;
    return RDAPSYNC_OK;
}

static rdapsync_status rawtcp_flush(void *state, char *err, size_t err_size)
{
    struct rawtcp *s = state;
    char line[64], reply[64];
    size_t got = 0;

    if (s->fd < 0) {
        /* The host flushes only after a write that answered OK, which
         * leaves the connection open; if it is gone anyway, write again. */
        snprintf(err, err_size, "not connected");
        return RDAPSYNC_RETRY;
    }
    int len = snprintf(line, sizeof(line), "COMMIT %zu\n", s->pending);
    rdapsync_status status = send_all(s, line, (size_t)len, err, err_size);
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
    snprintf(line, sizeof(line), "OK %zu\n", s->pending);
    if (strcmp(reply, line) != 0) {
        snprintf(err, err_size, "unexpected reply to COMMIT %zu: %.40s", s->pending, reply);
        disconnect(s);
        return RDAPSYNC_ERROR;
    }
    s->pending = 0;
    return RDAPSYNC_OK;
}

static const rdapsync_plugin rawtcp_descriptor = {
    RDAPSYNC_DESCRIPTOR_HEADER,
    .name = "rawtcp",
    .kind = RDAPSYNC_KIND_SINK,
    .version = "0.0.0",
    .description = "test double: JSON lines over TCP with plain write(2), COMMIT at flush",
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
