/*
 * The conformance cases. Each starts from an empty target (the hook's
 * reset), drives the sink like the host's task does (write then flush; on
 * RETRY back off and write the same batch again), and ends by comparing
 * what the sink stored with the state the records must give under the
 * version guard. A case that finds nothing to check fails: it cannot pass
 * by accident.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"

#define ATTEMPTS 40 /* RETRYs tolerated per batch (about 35 s of backoff) */

typedef struct run {
    kit_sink *sink;
    const kit_hook *hook;
    char *why;
    size_t why_size;
    kit_set set; /* every record this case delivered */
} run;

static kit_verdict fail(run *r, const char *fmt, ...) RDAPSYNC_PRINTF(2, 3);

static kit_verdict fail(run *r, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(r->why, r->why_size, fmt, args);
    va_end(args);
    return KIT_FAIL;
}

static bool start(run *r, kit_sink *sink, const kit_hook *hook, char *why, size_t why_size)
{
    char err[1024];
    memset(r, 0, sizeof(*r));
    r->sink = sink, r->hook = hook, r->why = why, r->why_size = why_size;
    kit_sink_close(sink);
    kit_sink_clear_rejects(sink);
    sink->first_retry[0] = '\0';
    if (kit_hook_reset(hook, err, sizeof(err)) != 0) {
        fail(r, "reset hook: %s", err);
        return false;
    }
    rdapsync_status status = kit_sink_open(sink, NULL, err, sizeof(err));
    if (status != RDAPSYNC_OK) {
        fail(r, "open answered %s: %s", rdapsync_status_str(status), err);
        return false;
    }
    return true;
}

static kit_verdict finish(run *r, kit_verdict verdict)
{
    kit_sink_close(r->sink);
    kit_set_free(&r->set);
    return verdict;
}

/* Delivers `records` in batches of `batch_size`; false with the reason. */
static bool deliver(run *r, const kit_record **records, size_t count, size_t batch_size)
{
    char err[1024];
    for (size_t from = 0; from < count; from += batch_size) {
        size_t n = count - from < batch_size ? count - from : batch_size;
        int retries = 0;
        rdapsync_status status = kit_sink_deliver(r->sink, records + from, n, ATTEMPTS, &retries, err, sizeof(err));
        if (status != RDAPSYNC_OK) {
            fail(r, "write/flush of %zu records answered %s after %d retries: %s", n, rdapsync_status_str(status),
                 retries, err);
            return false;
        }
    }
    return true;
}

/* Pointers to every record of the set, in order. Caller frees. */
static const kit_record **all_of(const kit_set *set)
{
    const kit_record **out = malloc((set->count ? set->count : 1) * sizeof(*out));
    if (!out)
        abort();
    for (size_t i = 0; i < set->count; i++)
        out[i] = &set->items[i];
    return out;
}

static bool deliver_set(run *r, size_t batch_size)
{
    const kit_record **records = all_of(&r->set);
    bool ok = deliver(r, records, r->set.count, batch_size);
    free(records);
    return ok;
}

static bool no_rejects(run *r)
{
    if (r->sink->reject_count == 0)
        return true;
    const kit_reject *first = &r->sink->rejects[0];
    fail(r, "%zu valid record(s) rejected, first (key \"%.80s\"): %s", r->sink->reject_count,
         first->key ? first->key : "", first->reason);
    return false;
}

/* The stored state equals what the case's records give. */
static bool state_matches(run *r, const char *when)
{
    kit_state expected, actual;
    char err[1024], why[2048];
    kit_state_expected(&r->set, &expected);
    if (kit_hook_readback(r->hook, &actual, err, sizeof(err)) != 0) {
        kit_state_free(&expected);
        fail(r, "read-back hook %s: %s", when, err);
        return false;
    }
    bool equal = kit_state_equal(&expected, &actual, why, sizeof(why));
    if (!equal)
        fail(r, "%s: %zu keys expected, %zu read back: %s", when, expected.count, actual.count, why);
    kit_state_free(&expected);
    kit_state_free(&actual);
    return equal;
}

static kit_record *add_doc(run *r, uint64_t *rng, const char *key, size_t key_len, int revision, size_t size,
                           int64_t ts, const char *origin, int64_t seq)
{
    char *doc = kit_document(key, key_len, revision, size, rng);
    kit_record *rec = kit_set_add(&r->set, key, key_len, RDAPSYNC_OP_UPSERT, doc, ts, origin, seq);
    free(doc);
    return rec;
}

static kit_record *add_delete(run *r, const char *key, size_t key_len, int64_t ts, const char *origin, int64_t seq)
{
    return kit_set_add(&r->set, key, key_len, RDAPSYNC_OP_DELETE, NULL, ts, origin, seq);
}

static void key_name(char *out, size_t size, const char *prefix, size_t i)
{
    snprintf(out, size, "%s-%05zu.example", prefix, i);
}

/* ---- cases ---- */

static kit_verdict case_open_close(kit_sink *sink, const kit_hook *hook, const kit_options *o, char *why,
                                   size_t why_size)
{
    run r;
    char err[1024];
    (void)o;
    if (!start(&r, sink, hook, why, why_size))
        return finish(&r, KIT_FAIL);
    kit_sink_close(sink);
    rdapsync_status status = kit_sink_open(sink, NULL, err, sizeof(err));
    if (status != RDAPSYNC_OK)
        return finish(&r, fail(&r, "second open answered %s: %s", rdapsync_status_str(status), err));
    /* A flush with nothing written is fine and changes nothing. */
    if ((status = kit_sink_flush(sink, err, sizeof(err))) != RDAPSYNC_OK)
        return finish(&r, fail(&r, "flush with nothing written answered %s: %s", rdapsync_status_str(status), err));
    if (!state_matches(&r, "after an empty flush"))
        return finish(&r, KIT_FAIL);
    return finish(&r, KIT_PASS);
}

static kit_verdict case_bad_config(kit_sink *sink, const kit_hook *hook, const kit_options *o, char *why,
                                   size_t why_size)
{
    (void)hook;
    if (o->bad_config_count == 0) {
        snprintf(why, why_size, "no --bad-config given");
        return KIT_SKIP;
    }
    for (size_t i = 0; i < o->bad_config_count; i++) {
        char err[1024] = "";
        void *config = kit_sink_config(sink, o->bad_configs[i], err, sizeof(err));
        if (!config) {
            if (!err[0]) {
                snprintf(why, why_size, "%s refused without a reason", o->bad_configs[i]);
                return KIT_FAIL;
            }
            printf("  %s: refused by validation: %s\n", o->bad_configs[i], err);
            continue; /* the best place */
        }
        rdapsync_status status = kit_sink_open(sink, config, err, sizeof(err));
        kit_sink_close(sink);
        kit_sink_free_config(sink, config);
        if (status == RDAPSYNC_OK) {
            snprintf(why, why_size, "%s: open answered ok", o->bad_configs[i]);
            return KIT_FAIL;
        }
        if (!err[0]) {
            snprintf(why, why_size, "%s: open answered %s without a reason", o->bad_configs[i],
                     rdapsync_status_str(status));
            return KIT_FAIL;
        }
        printf("  %s: refused by open (%s): %s\n", o->bad_configs[i], rdapsync_status_str(status), err);
    }
    return KIT_PASS;
}

static kit_verdict case_write_flush(kit_sink *sink, const kit_hook *hook, const kit_options *o, char *why,
                                    size_t why_size)
{
    run r;
    uint64_t rng = o->seed + 1;
    char key[64];
    if (!start(&r, sink, hook, why, why_size))
        return finish(&r, KIT_FAIL);
    for (size_t i = 0; i < 100; i++) {
        key_name(key, sizeof(key), "write", i);
        add_doc(&r, &rng, key, strlen(key), 1, 1000, 1000 + (int64_t)i, "origin-a", 1);
    }
    if (!deliver_set(&r, 100) || !no_rejects(&r) || !state_matches(&r, "after one batch"))
        return finish(&r, KIT_FAIL);
    return finish(&r, KIT_PASS);
}

static kit_verdict case_replay(kit_sink *sink, const kit_hook *hook, const kit_options *o, char *why,
                               size_t why_size)
{
    run r;
    uint64_t rng = o->seed + 2;
    char key[64], err[1024];
    if (!start(&r, sink, hook, why, why_size))
        return finish(&r, KIT_FAIL);
    for (size_t i = 0; i < 100; i++) {
        key_name(key, sizeof(key), "replay", i);
        add_doc(&r, &rng, key, strlen(key), (int)i, 800, 5000, i % 2 ? "b" : "a", (int64_t)i);
    }
    for (int pass = 0; pass < 3; pass++) {
        if (!deliver_set(&r, 100))
            return finish(&r, KIT_FAIL);
        if (!state_matches(&r, pass == 0 ? "after the first delivery" : "after a replay of the same batch"))
            return finish(&r, KIT_FAIL);
    }
    /* And by a new instance, as after a restart. */
    kit_sink_close(sink);
    rdapsync_status status = kit_sink_open(sink, NULL, err, sizeof(err));
    if (status != RDAPSYNC_OK)
        return finish(&r, fail(&r, "reopen answered %s: %s", rdapsync_status_str(status), err));
    if (!deliver_set(&r, 37) || !no_rejects(&r) || !state_matches(&r, "after a replay by a new instance"))
        return finish(&r, KIT_FAIL);
    return finish(&r, KIT_PASS);
}

/* Versions of one key that differ by event time, by origin alone, by
 * sequence alone, and NULL vs "" origins (equal). */
static void add_versions(run *r, uint64_t *rng, const char *key, int count, bool with_deletes)
{
    static const char *const origins[] = { "eu", "us", "ap", "", "eu-west" };
    for (int v = 0; v < count; v++) {
        int64_t ts = 1700000000000 + (int64_t)kit_rand_below(rng, 3) * 1000;
        const char *origin = origins[kit_rand_below(rng, 5)];
        int64_t seq = (int64_t)kit_rand_below(rng, 1000);
        if (with_deletes && kit_rand_below(rng, 5) == 0)
            add_delete(r, key, strlen(key), ts, origin, seq);
        else
            add_doc(r, rng, key, strlen(key), v, 400, ts, origin, seq);
    }
}

/* Drops records whose version equals another record's of the same key:
 * with equal versions the winner is undefined by the contract. */
static void drop_version_ties(kit_set *set)
{
    size_t kept = 0;
    for (size_t i = 0; i < set->count; i++) {
        bool tie = false;
        for (size_t j = 0; j < kept && !tie; j++)
            tie = set->items[j].key_len == set->items[i].key_len &&
                  memcmp(set->items[j].key, set->items[i].key, set->items[i].key_len) == 0 &&
                  kit_version_cmp(&set->items[j], &set->items[i]) == 0;
        if (tie) {
            free(set->items[i].key);
            free(set->items[i].value);
            free(set->items[i].origin);
        } else {
            set->items[kept++] = set->items[i];
        }
    }
    set->count = kept;
}

static kit_verdict case_versions_in_one_batch(kit_sink *sink, const kit_hook *hook, const kit_options *o, char *why,
                                              size_t why_size)
{
    run r;
    uint64_t rng = o->seed + 3;
    char key[64];
    if (!start(&r, sink, hook, why, why_size))
        return finish(&r, KIT_FAIL);
    for (size_t i = 0; i < 40; i++) {
        key_name(key, sizeof(key), "versions", i);
        add_versions(&r, &rng, key, 6, true);
    }
    drop_version_ties(&r.set);
    const kit_record **records = all_of(&r.set);
    kit_shuffle(records, r.set.count, &rng);
    bool ok = deliver(&r, records, r.set.count, r.set.count);
    free(records);
    if (!ok || !no_rejects(&r) || !state_matches(&r, "after one batch holding every version"))
        return finish(&r, KIT_FAIL);
    return finish(&r, KIT_PASS);
}

static kit_verdict case_shuffled_replays(kit_sink *sink, const kit_hook *hook, const kit_options *o, char *why,
                                         size_t why_size)
{
    run r;
    uint64_t rng = o->seed + 4;
    char key[64], when[64];
    if (!start(&r, sink, hook, why, why_size))
        return finish(&r, KIT_FAIL);
    for (size_t i = 0; i < 80; i++) {
        key_name(key, sizeof(key), "shuffle", i);
        add_versions(&r, &rng, key, 1 + (int)kit_rand_below(&rng, 6), true);
    }
    drop_version_ties(&r.set);
    size_t n = r.set.count;
    const kit_record **order = malloc(2 * n * sizeof(*order));
    if (!order)
        abort();
    for (int round = 0; round < 4; round++) {
        /* Every record once, a quarter of them twice, in a new order, in
         * batches of random sizes. */
        size_t count = 0;
        for (size_t i = 0; i < n; i++) {
            order[count++] = &r.set.items[i];
            if (kit_rand_below(&rng, 4) == 0)
                order[count++] = &r.set.items[i];
        }
        kit_shuffle(order, count, &rng);
        for (size_t from = 0; from < count;) {
            size_t size = 1 + kit_rand_below(&rng, 64);
            if (size > count - from)
                size = count - from;
            if (!deliver(&r, order + from, size, size)) {
                free(order);
                return finish(&r, KIT_FAIL);
            }
            from += size;
        }
        snprintf(when, sizeof(when), "after shuffled round %d", round + 1);
        if (!state_matches(&r, when)) {
            free(order);
            return finish(&r, KIT_FAIL);
        }
    }
    free(order);
    if (!no_rejects(&r))
        return finish(&r, KIT_FAIL);
    return finish(&r, KIT_PASS);
}

static kit_verdict case_deletes(kit_sink *sink, const kit_hook *hook, const kit_options *o, char *why,
                                size_t why_size)
{
    run r;
    uint64_t rng = o->seed + 5;
    char key[64];
    if (!start(&r, sink, hook, why, why_size))
        return finish(&r, KIT_FAIL);
    /* 50 keys at version 10. */
    for (size_t i = 0; i < 50; i++) {
        key_name(key, sizeof(key), "delete", i);
        add_doc(&r, &rng, key, strlen(key), 10, 600, 10, "o", 0);
    }
    if (!deliver_set(&r, 50) || !state_matches(&r, "after the upserts"))
        return finish(&r, KIT_FAIL);
    /* Half of them deleted at version 20. */
    size_t first_delete = r.set.count;
    for (size_t i = 0; i < 50; i += 2) {
        key_name(key, sizeof(key), "delete", i);
        add_delete(&r, key, strlen(key), 20, "o", 0);
    }
    const kit_record **records = all_of(&r.set);
    bool ok = deliver(&r, records + first_delete, r.set.count - first_delete, 25);
    free(records);
    if (!ok || !state_matches(&r, "after deleting half of the keys"))
        return finish(&r, KIT_FAIL);
    /* The old upserts again: deleted keys must stay deleted. */
    records = all_of(&r.set);
    ok = deliver(&r, records, 50, 17);
    free(records);
    if (!ok || !state_matches(&r, "after replaying older upserts of deleted keys"))
        return finish(&r, KIT_FAIL);
    /* A delete of a key never stored, then an older upsert of it. */
    kit_record *late[2];
    late[0] = add_delete(&r, "never-stored.example", 20, 50, "o", 0);
    late[1] = add_doc(&r, &rng, "never-stored.example", 20, 1, 400, 40, "o", 0);
    const kit_record *late_order[2] = { late[0], late[1] };
    if (!deliver(&r, late_order, 1, 1) || !deliver(&r, late_order + 1, 1, 1) ||
        !state_matches(&r, "after an older upsert of a key deleted before it was stored"))
        return finish(&r, KIT_FAIL);
    /* Newer upserts bring deleted keys back. */
    size_t first_revival = r.set.count;
    for (size_t i = 0; i < 50; i += 4) {
        key_name(key, sizeof(key), "delete", i);
        add_doc(&r, &rng, key, strlen(key), 30, 600, 30, "o", 0);
    }
    records = all_of(&r.set);
    ok = deliver(&r, records + first_revival, r.set.count - first_revival, 50);
    free(records);
    if (!ok || !no_rejects(&r) || !state_matches(&r, "after newer upserts of deleted keys"))
        return finish(&r, KIT_FAIL);
    return finish(&r, KIT_PASS);
}

static kit_verdict case_unicode_keys(kit_sink *sink, const kit_hook *hook, const kit_options *o, char *why,
                                     size_t why_size)
{
    static const char *const keys[] = {
        "\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88",         /* 例え.テスト */
        "\xd9\x85\xd8\xab\xd8\xa7\xd9\x84.\xd8\xa5\xd8\xae\xd8\xaa\xd8\xa8\xd8\xa7\xd8\xb1", /* مثال.إختبار */
        "\xf0\x9f\xa6\x8a-fox.example",                                          /* emoji */
        "e\xcc\x81t\xc3\xa9.example",                                            /* combining and precomposed */
        "\xc3\xa9t\xc3\xa9.example",
        "b\xc3\xbc\x63her.example",
        "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84",   /* пример.рф */
        "quote\"and'apostrophe.example",
        "back\\slash.example",
        "'; DROP TABLE x; --",
        "tab\there.example",
        "new\nline.example",
        "  spaces around  ",
        "UPPER.example",
        "upper.example",
        "\xef\xbf\xbd-replacement-char",
        "\xf4\x8f\xbf\xbf-max-code-point",
    };
    run r;
    uint64_t rng = o->seed + 6;
    if (!start(&r, sink, hook, why, why_size))
        return finish(&r, KIT_FAIL);
    size_t n = sizeof(keys) / sizeof(keys[0]);
    for (size_t i = 0; i < n; i++)
        add_doc(&r, &rng, keys[i], strlen(keys[i]), (int)i, 500, 1, "u", (int64_t)i);
    if (!deliver_set(&r, n) || !no_rejects(&r) || !state_matches(&r, "after unicode keys"))
        return finish(&r, KIT_FAIL);
    /* Then delete a few of them: deletes must find the same keys. */
    size_t first = r.set.count;
    for (size_t i = 0; i < n; i += 3)
        add_delete(&r, keys[i], strlen(keys[i]), 2, "u", 0);
    const kit_record **records = all_of(&r.set);
    bool ok = deliver(&r, records + first, r.set.count - first, n);
    free(records);
    if (!ok || !no_rejects(&r) || !state_matches(&r, "after deleting unicode keys"))
        return finish(&r, KIT_FAIL);
    return finish(&r, KIT_PASS);
}

static kit_verdict case_long_keys(kit_sink *sink, const kit_hook *hook, const kit_options *o, char *why,
                                  size_t why_size)
{
    run r;
    uint64_t rng = o->seed + 7;
    size_t sizes[] = { 255, 256, 1000, o->long_key_bytes };
    if (!start(&r, sink, hook, why, why_size))
        return finish(&r, KIT_FAIL);
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size_t len = sizes[s];
        char *key = malloc(len + 1);
        if (!key)
            abort();
        /* Two-byte characters after an ASCII prefix; ASCII to fill an odd end. */
        size_t i = (size_t)snprintf(key, len + 1, "%zu-", len);
        while (i + 2 <= len) {
            key[i++] = '\xc3';
            key[i++] = (char)(0xa0 + kit_rand_below(&rng, 16));
        }
        while (i < len)
            key[i++] = 'x';
        key[len] = '\0';
        add_doc(&r, &rng, key, len, (int)s, 400, 1, "l", 0);
        /* A key that differs only in its last byte. */
        key[len - 1] = key[len - 1] == 'y' ? 'z' : 'y';
        if ((unsigned char)key[len - 2] >= 0xc0) /* do not break a character */
            key[len - 2] = 'y';
        add_doc(&r, &rng, key, len, (int)s + 100, 400, 1, "l", 0);
        free(key);
    }
    if (!deliver_set(&r, 3) || !no_rejects(&r) || !state_matches(&r, "after long keys"))
        return finish(&r, KIT_FAIL);
    return finish(&r, KIT_PASS);
}

static kit_verdict case_large_batch(kit_sink *sink, const kit_hook *hook, const kit_options *o, char *why,
                                    size_t why_size)
{
    run r;
    uint64_t rng = o->seed + 8;
    char key[64];
    if (!start(&r, sink, hook, why, why_size))
        return finish(&r, KIT_FAIL);
    for (size_t i = 0; i < o->large_batch; i++) {
        key_name(key, sizeof(key), "large", i);
        add_doc(&r, &rng, key, strlen(key), 1, 4096, 7, "big", (int64_t)i);
    }
    if (!deliver_set(&r, o->large_batch) || !no_rejects(&r) || !state_matches(&r, "after one large batch"))
        return finish(&r, KIT_FAIL);
    return finish(&r, KIT_PASS);
}

static kit_verdict case_abandoned_write(kit_sink *sink, const kit_hook *hook, const kit_options *o, char *why,
                                        size_t why_size)
{
    run r;
    uint64_t rng = o->seed + 9;
    char key[64], err[1024];
    if (!start(&r, sink, hook, why, why_size))
        return finish(&r, KIT_FAIL);
    for (size_t i = 0; i < 60; i++) {
        key_name(key, sizeof(key), "abandon", i);
        add_doc(&r, &rng, key, strlen(key), (int)i, 500, 100 + (int64_t)(i % 30), "x", (int64_t)i);
    }
    const kit_record **records = all_of(&r.set);
    /* A: delivered. B: written, then the instance goes away unflushed. */
    bool ok = deliver(&r, records, 30, 30);
    rdapsync_status status = ok ? kit_sink_write(sink, records + 30, 30, err, sizeof(err)) : RDAPSYNC_ERROR;
    if (ok && status != RDAPSYNC_OK && status != RDAPSYNC_RETRY)
        ok = fail(&r, "write of the batch to abandon answered %s: %s", rdapsync_status_str(status), err) == KIT_PASS;
    if (ok) {
        kit_sink_close(sink);
        status = kit_sink_open(sink, NULL, err, sizeof(err));
        if (status != RDAPSYNC_OK)
            ok = fail(&r, "reopen answered %s: %s", rdapsync_status_str(status), err) == KIT_PASS;
    }
    /* B again, then flushed: A and B must both be there. */
    ok = ok && deliver(&r, records + 30, 30, 30) && no_rejects(&r) &&
         state_matches(&r, "after redelivering a batch abandoned before its flush");
    free(records);
    return finish(&r, ok ? KIT_PASS : KIT_FAIL);
}

/*
 * The batches that meet a failure are large: 2,000 records of ~4 KB, about
 * 9 MB, more than the socket buffers hold. A sink writing them to a
 * connection its server has closed is still writing when the peer's reset
 * arrives, so its next write(2) fails with EPIPE and raises SIGPIPE: the
 * host ignores it (and so does the kit), and the sink must answer RETRY.
 * Small batches fit in the buffers and hide that path: a Redis sink passed
 * this case with 30-record batches, then killed rdapsync (exit 141) on a
 * 2,000-record batch.
 */
#define WARMUP_BATCH 30
#define FAILURE_BATCH 2000
#define FAILURE_DOC_BYTES 4096

static size_t batch_bytes(const kit_record *const *records, size_t count)
{
    size_t bytes = 0;
    for (size_t i = 0; i < count; i++)
        bytes += records[i]->key_len + (records[i]->value ? strlen(records[i]->value) : 0);
    return bytes;
}

static kit_verdict case_retry_after_failure(kit_sink *sink, const kit_hook *hook, const kit_options *o, char *why,
                                            size_t why_size)
{
    run r;
    uint64_t rng = o->seed + 10;
    char key[64], err[1024];
    if (!o->fail_cmd) {
        snprintf(why, why_size, "no --fail-cmd given");
        return KIT_SKIP;
    }
    if (!start(&r, sink, hook, why, why_size))
        return finish(&r, KIT_FAIL);
    /* A: a small batch that opens the connection. B and C: the batches
     * that meet the first and the second failure. */
    const size_t total = WARMUP_BATCH + 2 * FAILURE_BATCH;
    for (size_t i = 0; i < total; i++) {
        key_name(key, sizeof(key), "retry", i);
        add_doc(&r, &rng, key, strlen(key), (int)i, i < WARMUP_BATCH ? 700 : FAILURE_DOC_BYTES, 100, "r",
                (int64_t)i);
    }
    const kit_record **records = all_of(&r.set);
    const kit_record **b = records + WARMUP_BATCH, **c = b + FAILURE_BATCH;
    int retries_seen = 0, retries = 0;
    bool ok = deliver(&r, records, WARMUP_BATCH, WARMUP_BATCH);

    /* Failure between write and flush: flush must not claim success it did
     * not have (a sink that buffers in write() sends B into the broken
     * connection here); delivering the same batch again must land it. */
    rdapsync_status status = ok ? kit_sink_write(sink, b, FAILURE_BATCH, err, sizeof(err)) : RDAPSYNC_ERROR;
    if (ok && status != RDAPSYNC_OK && status != RDAPSYNC_RETRY)
        ok = fail(&r, "write answered %s: %s", rdapsync_status_str(status), err) == KIT_PASS;
    if (ok && kit_shell(o->fail_cmd) != 0)
        ok = fail(&r, "--fail-cmd failed: %s", o->fail_cmd) == KIT_PASS;
    if (ok && status == RDAPSYNC_OK) {
        status = kit_sink_flush(sink, err, sizeof(err));
        if (status == RDAPSYNC_RETRY)
            retries_seen++;
        else if (status != RDAPSYNC_OK)
            ok = fail(&r, "flush after the failure answered %s: %s", rdapsync_status_str(status), err) == KIT_PASS;
    }
    /* Like the host: the batch is written again only after a RETRY; an OK
     * flush had better mean the batch is stored. */
    if (ok && status == RDAPSYNC_RETRY) {
        status = kit_sink_deliver(sink, b, FAILURE_BATCH, ATTEMPTS, &retries, err, sizeof(err));
        retries_seen += retries;
        if (status != RDAPSYNC_OK)
            ok = fail(&r, "redelivery after the failure answered %s: %s", rdapsync_status_str(status), err) ==
                 KIT_PASS;
    }
    /* Failure before the next write: writing C into the broken connection
     * must answer RETRY (or reconnect on its own) and lose nothing. */
    if (ok && kit_shell(o->fail_cmd) != 0)
        ok = fail(&r, "--fail-cmd failed: %s", o->fail_cmd) == KIT_PASS;
    if (ok) {
        status = kit_sink_deliver(sink, c, FAILURE_BATCH, ATTEMPTS, &retries, err, sizeof(err));
        retries_seen += retries;
        if (status != RDAPSYNC_OK)
            ok = fail(&r, "delivery after the second failure answered %s: %s", rdapsync_status_str(status), err) ==
                 KIT_PASS;
    }
    if (ok)
        printf("  %d records (%.1f MB, %.1f MB) after each failure; %d RETRY answer(s), the first: %s\n",
               FAILURE_BATCH, batch_bytes(b, FAILURE_BATCH) / 1e6, batch_bytes(c, FAILURE_BATCH) / 1e6, retries_seen,
               sink->first_retry);
    free(records);
    if (ok && retries_seen == 0)
        ok = fail(&r, "--fail-cmd never made the sink answer RETRY: the failure path was not exercised") == KIT_PASS;
    ok = ok && no_rejects(&r) && state_matches(&r, "after failures and retries");
    return finish(&r, ok ? KIT_PASS : KIT_FAIL);
}

static kit_verdict case_keyless_records(kit_sink *sink, const kit_hook *hook, const kit_options *o, char *why,
                                        size_t why_size)
{
    run r;
    uint64_t rng = o->seed + 11;
    char key[64];
    if (!start(&r, sink, hook, why, why_size))
        return finish(&r, KIT_FAIL);
    for (size_t i = 0; i < 20; i++) {
        if (i % 7 == 3) {
            char *doc = kit_document(NULL, 0, (int)i, 300, &rng);
            kit_set_add(&r.set, NULL, 0, RDAPSYNC_OP_UPSERT, doc, 1, "k", (int64_t)i);
            free(doc);
            continue;
        }
        key_name(key, sizeof(key), "keyless", i);
        add_doc(&r, &rng, key, strlen(key), (int)i, 300, 1, "k", (int64_t)i);
    }
    if (!deliver_set(&r, 20) || !state_matches(&r, "after a batch with records that have no key"))
        return finish(&r, KIT_FAIL);
    for (size_t i = 0; i < r.sink->reject_count; i++) {
        if (r.sink->rejects[i].key)
            return finish(&r, fail(&r, "a record with a key was rejected: %s", r.sink->rejects[i].reason));
        if (!r.sink->rejects[i].reason[0])
            return finish(&r, fail(&r, "a keyless record was rejected without a reason"));
    }
    return finish(&r, KIT_PASS);
}

/* ---- subjects (ABI 1.5, optional) ---- */

static int count_hit(void *arg, const rdapsync_subject_hit *hit)
{
    (void)hit;
    ++*(uint64_t *)arg;
    return 0;
}

static kit_verdict case_subject_erase(kit_sink *sink, const kit_hook *hook, const kit_options *o, char *why,
                                      size_t why_size)
{
    const rdapsync_plugin *d = sink->desc;
    if (!RDAPSYNC_HAS(rdapsync_plugin, d, retention_purge) || !d->subject_find || !d->subject_erase) {
        snprintf(why, why_size, "the sink has no subject_find/subject_erase");
        return KIT_SKIP;
    }
    run r;
    uint64_t rng = o->seed + 11;
    char key[64], doc[512], err[1024];
    kit_set others = {0};
    if (!start(&r, sink, hook, why, why_size))
        return finish(&r, KIT_FAIL);
    for (size_t i = 0; i < 20; i++) {
        key_name(key, sizeof(key), "subject", i);
        if (i % 4 == 0) {
            snprintf(doc, sizeof(doc), "{\"object_class\":\"domain\",\"ldh_name\":\"%s\",\"contacts\":"
                     "{\"registrant\":[{\"name\":\"Kit Subject\",\"emails\":[\"Kit.Subject@example.net\"]}]}}", key);
            kit_set_add(&r.set, key, strlen(key), RDAPSYNC_OP_UPSERT, doc, 1000, "k", (int64_t)i);
        } else {
            const kit_record *rec = add_doc(&r, &rng, key, strlen(key), 1, 400, 1000, "k", (int64_t)i);
            kit_set_add(&others, rec->key, rec->key_len, rec->op, rec->value, rec->ts, rec->origin, rec->seq);
        }
    }
    rdapsync_subject subject = {"email", "kit.subject@EXAMPLE.net"};
    uint64_t found = 0, again = 0, changed = 0, twice = 1;
    kit_verdict verdict = KIT_FAIL;
    rdapsync_status st;
    if (!deliver_set(&r, 20) || !state_matches(&r, "before the erasure"))
        goto out;
    if ((st = d->subject_find(sink->state, &subject, count_hit, &found, err, sizeof(err))) != RDAPSYNC_OK) {
        fail(&r, "subject_find answered %s: %s", rdapsync_status_str(st), err);
    } else if (found < 5) {
        fail(&r, "subject_find saw %llu documents about the subject, 5 were written", (unsigned long long)found);
    } else if ((st = d->subject_erase(sink->state, &subject, NULL, NULL, &changed, err, sizeof(err))) != RDAPSYNC_OK) {
        fail(&r, "subject_erase answered %s: %s", rdapsync_status_str(st), err);
    } else if (changed != found) {
        fail(&r, "subject_erase changed %llu documents, subject_find saw %llu", (unsigned long long)changed,
             (unsigned long long)found);
    } else if (d->subject_find(sink->state, &subject, count_hit, &again, err, sizeof(err)) != RDAPSYNC_OK || again) {
        fail(&r, "after the erasure subject_find still sees %llu documents (%s)", (unsigned long long)again, err);
    } else if (d->subject_erase(sink->state, &subject, NULL, NULL, &twice, err, sizeof(err)) != RDAPSYNC_OK || twice) {
        fail(&r, "a second subject_erase changed %llu documents (%s)", (unsigned long long)twice, err);
    } else {
        kit_set_free(&r.set);
        r.set = others;
        others = (kit_set){0};
        verdict = state_matches(&r, "after the erasure (the other documents untouched)") ? KIT_PASS : KIT_FAIL;
    }
out:
    kit_set_free(&others);
    return finish(&r, verdict);
}

const kit_case kit_cases[] = {
    { "open_close", "opens with the given config, closes, opens again; an empty flush is fine", case_open_close },
    { "bad_config_refused", "each --bad-config is refused by validation or open, with a reason", case_bad_config },
    { "write_flush_read_back", "a flushed batch reads back as written", case_write_flush },
    { "replay_same_batch_idempotent", "the same batch again, and by a new instance, changes nothing", case_replay },
    { "versions_in_one_batch", "many versions of a key in one batch: the greatest wins",
      case_versions_in_one_batch },
    { "shuffled_replays_converge", "any order, duplicates, any batching: the same final state",
      case_shuffled_replays },
    { "deletes_without_resurrection", "deletes remove keys; older upserts replayed later do not bring them back",
      case_deletes },
    { "unicode_keys", "keys in many scripts, with quotes, tabs and newlines, are kept exactly", case_unicode_keys },
    { "long_keys", "keys up to --long-key-bytes are stored and kept apart", case_long_keys },
    { "large_batch", "one batch of --large-batch records of ~4 KB", case_large_batch },
    { "flush_after_abandoned_write", "a batch written but never flushed, then delivered by a new instance, lands",
      case_abandoned_write },
    { "retry_after_failure",
      "after --fail-cmd, ~9 MB batches meet the broken connection: RETRY and the same batch again lose nothing",
      case_retry_after_failure },
    { "keyless_records_do_not_block", "records without a key are rejected with a reason or stored, the rest lands",
      case_keyless_records },
    { "subject_erase", "subject_find sees the documents about a person, subject_erase removes exactly them, "
      "a second erase changes nothing (sinks with the ABI 1.5 calls)", case_subject_erase },
    { NULL, NULL, NULL },
};
