/*
 * The version order, and a form of it that byte-comparing stores order the
 * same way (sinktk.h).
 */
#include <string.h>

#include <rdapsync/sinktk.h>

int rdapsync_version_compare(const rdapsync_version *a, const rdapsync_version *b)
{
    if (a->event_time_ms != b->event_time_ms)
        return a->event_time_ms < b->event_time_ms ? -1 : 1;
    /* strcmp compares as unsigned char: bytewise, like a C collation, a
     * binary column or BSON's string order. */
    int c = strcmp(a->origin ? a->origin : "", b->origin ? b->origin : "");
    if (c != 0)
        return c < 0 ? -1 : 1;
    if (a->sequence != b->sequence)
        return a->sequence < b->sequence ? -1 : 1;
    return 0;
}

/* Flipping the sign bit maps INT64_MIN..INT64_MAX onto 0..UINT64_MAX in
 * order; big-endian makes memcmp see the high byte first. */
static void put_ordered(unsigned char *out, int64_t value)
{
    uint64_t u = (uint64_t)value ^ (UINT64_C(1) << 63);
    for (int i = 7; i >= 0; i--) {
        out[i] = (unsigned char)(u & 0xff);
        u >>= 8;
    }
}

static int64_t get_ordered(const unsigned char *in)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = (u << 8) | in[i];
    u ^= UINT64_C(1) << 63;
    int64_t value;
    memcpy(&value, &u, sizeof(value));
    return value;
}

size_t rdapsync_version_key(const rdapsync_version *version, unsigned char *out, size_t out_size)
{
    const char *origin = version->origin ? version->origin : "";
    size_t origin_len = strlen(origin);
    size_t len = RDAPSYNC_VERSION_KEY_FIXED + origin_len;
    if (!out || out_size < len)
        return len;
    put_ordered(out, version->event_time_ms);
    memcpy(out + 8, origin, origin_len + 1); /* with its NUL: the end marker */
    put_ordered(out + 9 + origin_len, version->sequence);
    return len;
}

int rdapsync_version_from_key(const unsigned char *key, size_t len, rdapsync_version *out)
{
    if (!key || len < RDAPSYNC_VERSION_KEY_FIXED)
        return -1;
    const unsigned char *end = memchr(key + 8, '\0', len - 8);
    if (!end || (size_t)(end - key) + 1 + 8 != len)
        return -1;
    out->event_time_ms = get_ordered(key);
    out->origin = (const char *)key + 8;
    out->sequence = get_ordered(end + 1);
    return 0;
}
