/*
 * kafka_feed: produces rdapgen change envelopes (JSON lines) to a Kafka
 * topic, as Debezium change events or as plain JSON documents, for the
 * kafka integration tests and benchmarks.
 *
 *   kafka_feed --brokers B --topic T [--format debezium|debezium-schema|json]
 *              [--snapshot N] [--malformed-every N] [--rate R] [--repeat N] [FILE]
 *   kafka_feed --brokers B --topic T --create PARTITIONS
 *
 * --create makes the topic (replication factor 1; an existing topic is
 * fine) and exits.
 *
 * debezium: upserts become op "c" (first sight of a key in this run) or "u",
 * the first N lines with --snapshot become op "r"; deletes become op "d"
 * followed by a tombstone. The version maps to ts_ms, source.name = origin,
 * source.lsn = seq, so a version-guarded sink ends at rdapgen's --expected
 * state. json: the value as is (a delete is a tombstone) with the
 * rdapsync.ts_ms / rdapsync.origin / rdapsync.seq headers.
 * --malformed-every N adds, after every N-th line, a message that is not
 * valid JSON, then one that is not a valid envelope, in turn.
 * --rate R paces the production at R messages per second (0 = as fast as
 * possible). Message key = the record key. Prints one summary line
 * "produced N messages: U upserts, D deletes, T tombstones, M malformed"
 * on stdout.
 */
#include <inttypes.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum format { FORMAT_DEBEZIUM, FORMAT_DEBEZIUM_SCHEMA, FORMAT_JSON };

typedef struct feed {
    rd_kafka_t *rk;
    const char *topic;
    enum format format;
    long long snapshot;
    long long malformed_every;
    double rate;
    long long lines, upserts, deletes, tombstones, malformed, failed;
    int64_t started_ns;
    long long sent;
    /* keys seen, for c vs u (open addressing on a hash of the key) */
    char **seen;
    size_t seen_cap, seen_count;
} feed;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "kafka_feed: %s\n", what);
    exit(2);
}

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* True if the key was seen before; remembers it. */
static bool seen_before(feed *f, const char *key)
{
    if (f->seen_count * 2 >= f->seen_cap) {
        size_t cap = f->seen_cap ? f->seen_cap * 2 : 1024;
        char **grown = calloc(cap, sizeof(char *));
        if (!grown)
            die("out of memory");
        for (size_t i = 0; i < f->seen_cap; i++)
            if (f->seen[i]) {
                size_t j = hash(f->seen[i]) & (cap - 1);
                while (grown[j])
                    j = (j + 1) & (cap - 1);
                grown[j] = f->seen[i];
            }
        free(f->seen);
        f->seen = grown;
        f->seen_cap = cap;
    }
    size_t j = hash(key) & (f->seen_cap - 1);
    for (; f->seen[j]; j = (j + 1) & (f->seen_cap - 1))
        if (strcmp(f->seen[j], key) == 0)
            return true;
    f->seen[j] = strdup(key);
    f->seen_count++;
    return false;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    feed *f = opaque;
    (void)rk;
    if (m->err) {
        if (f->failed++ < 5)
            fprintf(stderr, "kafka_feed: delivery failed: %s\n", rd_kafka_err2str(m->err));
    }
}

static void pace(feed *f)
{
    if (f->rate <= 0)
        return;
    int64_t due = f->started_ns + (int64_t)((double)f->sent * 1e9 / f->rate);
    int64_t wait;
    while ((wait = due - now_ns()) > 0) {
        rd_kafka_poll(f->rk, 0);
        struct timespec ts = {0, wait > 1000000 ? 1000000 : wait};
        nanosleep(&ts, NULL);
    }
}

/* Takes ownership of value (malloc'd, may be NULL for a tombstone). */
static void produce(feed *f, const char *key, char *value, size_t len, rd_kafka_headers_t *hdrs)
{
    pace(f);
    for (;;) {
        rd_kafka_resp_err_t rc = rd_kafka_producev(
            f->rk, RD_KAFKA_V_TOPIC(f->topic), RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(value, len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        if (rc == RD_KAFKA_RESP_ERR_NO_ERROR)
            break;
        if (rc != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fprintf(stderr, "kafka_feed: produce: %s\n", rd_kafka_err2str(rc));
            exit(1);
        }
        rd_kafka_poll(f->rk, 50);
    }
    f->sent++;
    rd_kafka_poll(f->rk, 0);
}

static char *dump(json_t *v, size_t *len)
{
    char *text = json_dumps(v, JSON_COMPACT);
    if (!text)
        die("json_dumps failed");
    *len = strlen(text);
    return text;
}

static void emit_malformed(feed *f)
{
    char key[64];
    snprintf(key, sizeof(key), "malformed-%lld", f->malformed);
    const char *text = f->malformed % 2 == 0 ? "{\"op\":\"c\",\"after\":{\"handle\":" /* cut short */
                                             : "{\"op\":\"z\",\"after\":{\"handle\":\"X\"}}";
    produce(f, key, strdup(text), strlen(text), NULL);
    f->malformed++;
}

static void emit_debezium(feed *f, json_t *line, const char *key, bool is_delete)
{
    json_t *value = json_object_get(line, "value");
    json_t *source = json_pack("{s:O,s:O,s:O,s:s}", "name", json_object_get(line, "origin"), "lsn",
                               json_object_get(line, "seq"), "ts_ms", json_object_get(line, "ts_ms"),
                               "connector", "rdapgen");
    bool seen = seen_before(f, key);
    const char *op = is_delete ? "d" : f->lines <= f->snapshot ? "r" : seen ? "u" : "c";
    json_t *env = json_pack("{s:o,s:O,s:s,s:O,s:o}", "before",
                            strcmp(op, "c") == 0 || strcmp(op, "r") == 0 ? json_null() : json_pack("{s:s}", "handle", key),
                            "after", is_delete ? json_null() : value, "op", op, "ts_ms",
                            json_object_get(line, "ts_ms"), "source", source);
    if (f->format == FORMAT_DEBEZIUM_SCHEMA)
        env = json_pack("{s:{s:s,s:b,s:s},s:o}", "schema", "type", "struct", "optional", 0, "name",
                        "rdap.changes.Envelope", "payload", env);
    size_t len;
    char *text = dump(env, &len);
    json_decref(env);
    produce(f, key, text, len, NULL);
    if (is_delete) {
        produce(f, key, NULL, 0, NULL);
        f->tombstones++;
    }
}

static void emit_json(feed *f, json_t *line, const char *key, bool is_delete)
{
    char number[32];
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(3);
    snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(line, "ts_ms")));
    rd_kafka_header_add(hdrs, "rdapsync.ts_ms", -1, number, -1);
    rd_kafka_header_add(hdrs, "rdapsync.origin", -1, json_string_value(json_object_get(line, "origin")), -1);
    snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(line, "seq")));
    rd_kafka_header_add(hdrs, "rdapsync.seq", -1, number, -1);
    size_t len = 0;
    char *text = is_delete ? NULL : dump(json_object_get(line, "value"), &len);
    produce(f, key, text, len, hdrs);
    if (is_delete)
        f->tombstones++;
}

/* Creates the topic through the admin API; an existing one is fine. */
static int create_topic(rd_kafka_t *rk, const char *topic, int partitions)
{
    char errstr[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, errstr, sizeof(errstr));
    if (!nt)
        die(errstr);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opts, 30000, errstr, sizeof(errstr));
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 60000);
    int rc = 1;
    if (!ev) {
        fprintf(stderr, "kafka_feed: CreateTopics timed out\n");
    } else if (rd_kafka_event_error(ev)) {
        fprintf(stderr, "kafka_feed: CreateTopics: %s\n", rd_kafka_event_error_string(ev));
    } else {
        size_t n;
        const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        rd_kafka_resp_err_t err = n ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            fprintf(stderr, "kafka_feed: create %s: %s\n", topic, rd_kafka_err2str(err));
        else
            rc = 0;
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: kafka_feed --brokers B --topic T [--format debezium|debezium-schema|json] "
                    "[--snapshot N] [--malformed-every N] [--rate R] [--repeat N] [FILE]\n"
                    "       kafka_feed --brokers B --topic T --create PARTITIONS\n");
    exit(2);
}

int main(int argc, char **argv)
{
    feed f = {0};
    const char *brokers = NULL, *path = NULL;
    long long repeat = 1;
    int create = 0;
    char errstr[512];

    f.format = FORMAT_DEBEZIUM;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--brokers") == 0 && v)
            brokers = v, i++;
        else if (strcmp(a, "--topic") == 0 && v)
            f.topic = v, i++;
        else if (strcmp(a, "--format") == 0 && v) {
            f.format = strcmp(v, "json") == 0              ? FORMAT_JSON
                       : strcmp(v, "debezium-schema") == 0 ? FORMAT_DEBEZIUM_SCHEMA
                       : strcmp(v, "debezium") == 0        ? FORMAT_DEBEZIUM
                                                           : (usage(), FORMAT_JSON);
            i++;
        } else if (strcmp(a, "--snapshot") == 0 && v)
            f.snapshot = atoll(v), i++;
        else if (strcmp(a, "--malformed-every") == 0 && v)
            f.malformed_every = atoll(v), i++;
        else if (strcmp(a, "--rate") == 0 && v)
            f.rate = atof(v), i++;
        else if (strcmp(a, "--create") == 0 && v)
            create = atoi(v), i++;
        else if (strcmp(a, "--repeat") == 0 && v)
            repeat = atoll(v), i++;
        else if (a[0] == '-')
            usage();
        else
            path = a;
    }
    if (!brokers || !f.topic)
        usage();

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *props[][2] = {{"bootstrap.servers", brokers}, {"enable.idempotence", "true"},
                              {"linger.ms", "20"},          {"batch.size", "1000000"},
                              {"partitioner", "murmur2_random"}, {"queue.buffering.max.kbytes", "1048576"}};
    for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
            die(errstr);
    rd_kafka_conf_set_opaque(conf, &f);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    f.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!f.rk)
        die(errstr);

    if (create > 0) {
        int rc = create_topic(f.rk, f.topic, create);
        rd_kafka_destroy(f.rk);
        return rc;
    }
    f.started_ns = now_ns();
    for (long long round = 0; round < repeat; round++) {
        FILE *in = path ? fopen(path, "r") : stdin;
        if (!in)
            die("cannot open the input file");
        char *buf = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&buf, &cap, in)) > 0) {
            json_error_t jerr;
            json_t *line = json_loadb(buf, (size_t)n, 0, &jerr);
            if (!line)
                die("input line is not JSON");
            const char *key = json_string_value(json_object_get(line, "key"));
            const char *op = json_string_value(json_object_get(line, "op"));
            if (!key || !op)
                die("input line is not an rdapgen envelope");
            bool is_delete = strcmp(op, "delete") == 0;
            f.lines++;
            if (f.format == FORMAT_JSON)
                emit_json(&f, line, key, is_delete);
            else
                emit_debezium(&f, line, key, is_delete);
            if (is_delete)
                f.deletes++;
            else
                f.upserts++;
            json_decref(line);
            if (f.malformed_every > 0 && f.lines % f.malformed_every == 0)
                emit_malformed(&f);
        }
        free(buf);
        if (path)
            fclose(in);
    }
    rd_kafka_resp_err_t rc = rd_kafka_flush(f.rk, 120000);
    rd_kafka_destroy(f.rk);
    double secs = (double)(now_ns() - f.started_ns) / 1e9;
    printf("produced %lld messages: %lld upserts, %lld deletes, %lld tombstones, %lld malformed in %.2f s\n",
           f.sent, f.upserts, f.deletes, f.tombstones, f.malformed, secs);
    for (size_t i = 0; i < f.seen_cap; i++)
        free(f.seen[i]);
    free(f.seen);
    if (rc || f.failed) {
        fprintf(stderr, "kafka_feed: %lld deliveries failed%s\n", f.failed, rc ? ", flush timed out" : "");
        return 1;
    }
    return 0;
}
