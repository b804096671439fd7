/* Test harness for the kafka plugins (see kafka_harness.h). */
#include "kafka_harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "batch_api.h"
#include "context.h"
#include "diag.h"
#include "options.h"
#include "yaml_tree.h"

const rdapsync_host *host(void) { return host_api_table(); }

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char err[256];
    cr_assert_eq(rd_kafka_conf_set(conf, name, value, err, sizeof(err)), RD_KAFKA_CONF_OK, "%s: %s", name, err);
}

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)level;
    (void)fac;
    (void)buf;
}

void mock_start(mock *m)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    memset(m, 0, sizeof(*m));
    conf_set(conf, "test.mock.num.brokers", "1");
    conf_set(conf, "linger.ms", "0");
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    m->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    cr_assert_not_null(m->producer, "mock producer: %s", err);
    m->cluster = rd_kafka_handle_mock_cluster(m->producer);
    cr_assert_not_null(m->cluster);
    m->brokers = rd_kafka_mock_cluster_bootstraps(m->cluster);
}

void mock_stop(mock *m)
{
    if (m->producer) {
        rd_kafka_flush(m->producer, 5000);
        rd_kafka_destroy(m->producer);
    }
    memset(m, 0, sizeof(*m));
}

void mock_topic(mock *m, const char *topic, int partitions)
{
    cr_assert_eq(rd_kafka_mock_topic_create(m->cluster, topic, partitions, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
}

void mock_produce(mock *m, const char *topic, int partition, const char *key, const char *value,
                  const char *const *headers)
{
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(4);
    for (size_t i = 0; headers && headers[i]; i += 2)
        rd_kafka_header_add(hdrs, headers[i], -1, headers[i + 1], -1);
    rd_kafka_resp_err_t rc = rd_kafka_producev(
        m->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(key, key ? strlen(key) : 0), RD_KAFKA_V_VALUE((void *)value, value ? strlen(value) : 0),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
    cr_assert_eq(rc, RD_KAFKA_RESP_ERR_NO_ERROR, "produce: %s", rd_kafka_err2str(rc));
    cr_assert_eq(rd_kafka_flush(m->producer, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

int64_t mock_committed(mock *m, const char *group, const char *topic, int partition)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", m->brokers);
    conf_set(conf, "group.id", group);
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    cr_assert_not_null(rk, "%s", err);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic, partition);
    rd_kafka_resp_err_t rc = rd_kafka_committed(rk, list, 10000);
    cr_assert_eq(rc, RD_KAFKA_RESP_ERR_NO_ERROR, "committed: %s", rd_kafka_err2str(rc));
    int64_t offset = list->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(rk);
    return offset >= 0 ? offset : -1;
}

static void *fill_settings(const rdapsync_plugin *desc, const char *yaml)
{
    diag_list diags;
    bool failed = false;

    diag_list_init(&diags);
    ynode *root = yaml_tree_load_buffer("test.yaml", yaml, strlen(yaml), &diags);
    cr_assert_not_null(root, "YAML '%s' does not parse", yaml);
    void *settings = options_fill(desc, root, root, "test.yaml", "test", &diags, &failed);
    if (failed || diag_error_count(&diags)) {
        diag_print(&diags, stderr);
        cr_assert_fail("options '%s' rejected", yaml);
    }
    ynode_free(root);
    diag_list_free(&diags);
    return settings;
}

static loaded_plugin *load(rdapsync_kind kind, char *err, size_t err_size)
{
    char file[512];
    snprintf(file, sizeof(file), "%s/%s-kafka.so", RDAPSYNC_PLUGIN_BUILD_DIR, rdapsync_kind_str(kind));
    loaded_plugin *plugin = loader_load(file, kind, "kafka", err, err_size);
    cr_assert_not_null(plugin, "loading %s: %s", file, err);
    return plugin;
}

void instance_load(instance *in, rdapsync_kind kind, const char *yaml)
{
    memset(in, 0, sizeof(*in));
    in->plugin = load(kind, in->err, sizeof(in->err));
    in->settings = fill_settings(in->plugin->desc, yaml);
    in->ctx = context_new("test", 0, 1, kind, "kafka", NULL, NULL);
    cr_assert_not_null(in->ctx);
}

rdapsync_status instance_check(rdapsync_kind kind, const char *yaml, char *err, size_t err_size)
{
    loaded_plugin *plugin = load(kind, err, err_size);
    void *settings = fill_settings(plugin->desc, yaml);
    err[0] = '\0';
    rdapsync_status st = plugin->desc->check(settings, err, err_size);
    options_free(plugin->desc, settings);
    loader_unload(plugin);
    return st;
}

rdapsync_status instance_open(instance *in)
{
    in->err[0] = '\0';
    rdapsync_status status = in->plugin->desc->open(in->ctx, in->settings, &in->state, in->err, sizeof(in->err));
    in->opened = status == RDAPSYNC_OK;
    return status;
}

void instance_close(instance *in)
{
    if (in->opened)
        in->plugin->desc->close(in->state);
    in->opened = false;
    context_free(in->ctx);
    options_free(in->plugin->desc, in->settings);
    loader_unload(in->plugin);
    memset(in, 0, sizeof(*in));
}

size_t poll_until(instance *source, rdapsync_batch *batch, size_t count, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    while (batch_count(batch) < count && now_ms() < deadline) {
        rdapsync_status st = source->plugin->desc->poll(source->state, batch, 100, source->err, sizeof(source->err));
        cr_assert_eq(st, RDAPSYNC_OK, "poll: %s: %s", rdapsync_status_str(st), source->err);
    }
    return batch_count(batch);
}

void poll_for(instance *source, rdapsync_batch *batch, int ms)
{
    int64_t deadline = now_ms() + ms;
    while (now_ms() < deadline) {
        rdapsync_status st = source->plugin->desc->poll(source->state, batch, 50, source->err, sizeof(source->err));
        cr_assert_eq(st, RDAPSYNC_OK, "poll: %s: %s", rdapsync_status_str(st), source->err);
    }
}

void commit_position(instance *source, const char *topic, int partition, int64_t offset)
{
    rdapsync_position pos = {topic, partition, offset};
    rdapsync_status st = source->plugin->desc->commit(source->state, &pos, 1, source->err, sizeof(source->err));
    cr_assert_eq(st, RDAPSYNC_OK, "commit: %s", source->err);
}

static char *copy_bytes(const void *bytes, size_t len)
{
    if (!bytes)
        return NULL;
    char *out = malloc(len + 1);
    cr_assert_not_null(out);
    memcpy(out, bytes, len);
    out[len] = '\0';
    return out;
}

static void copy_message(read_msg *out, const rd_kafka_message_t *msg)
{
    rd_kafka_headers_t *hdrs = NULL;
    const char *name;
    const void *value;
    size_t len;

    memset(out, 0, sizeof(*out));
    out->key = copy_bytes(msg->key, msg->key_len);
    out->value = copy_bytes(msg->payload, msg->len);
    out->value_len = msg->len;
    out->partition = msg->partition;
    out->offset = msg->offset;
    if (rd_kafka_message_headers(msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    for (size_t i = 0; out->header_count < READ_MAX_HEADERS &&
                       rd_kafka_header_get_all(hdrs, i, &name, &value, &len) == RD_KAFKA_RESP_ERR_NO_ERROR;
         i++) {
        out->header_names[out->header_count] = copy_bytes(name, strlen(name));
        out->header_values[out->header_count] = copy_bytes(value ? value : "", value ? len : 0);
        out->header_count++;
    }
}

read_msg *read_topic(mock *m, const char *topic, size_t max, int timeout_ms, size_t *count)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    conf_set(conf, "bootstrap.servers", m->brokers);
    conf_set(conf, "group.id", "test-reader"); /* assign() needs one; nothing is committed */
    conf_set(conf, "enable.auto.commit", "false");
    conf_set(conf, "fetch.wait.max.ms", "10");
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    cr_assert_not_null(rk, "%s", err);
    rd_kafka_poll_set_consumer(rk);
    const rd_kafka_metadata_t *md = NULL;
    cr_assert_eq(rd_kafka_metadata(rk, 1, NULL, &md, 5000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(8);
    for (int t = 0; t < md->topic_cnt; t++)
        if (strcmp(md->topics[t].topic, topic) == 0)
            for (int p = 0; p < md->topics[t].partition_cnt; p++)
                rd_kafka_topic_partition_list_add(list, topic, md->topics[t].partitions[p].id)->offset =
                    RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_metadata_destroy(md);
    cr_assert_gt(list->cnt, 0, "topic %s not found", topic);
    cr_assert_eq(rd_kafka_assign(rk, list), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(list);

    read_msg *out = calloc(max ? max : 1, sizeof(*out));
    cr_assert_not_null(out);
    size_t n = 0;
    int64_t deadline = now_ms() + timeout_ms;
    while (n < max && now_ms() < deadline) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 100);
        if (!msg)
            continue;
        if (!msg->err)
            copy_message(&out[n++], msg);
        rd_kafka_message_destroy(msg);
    }
    *count = n;
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return out;
}

void read_free(read_msg *msgs, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(msgs[i].key);
        free(msgs[i].value);
        for (size_t h = 0; h < msgs[i].header_count; h++) {
            free(msgs[i].header_names[h]);
            free(msgs[i].header_values[h]);
        }
    }
    free(msgs);
}

const char *read_header(const read_msg *msg, const char *name)
{
    const char *found = NULL;
    for (size_t h = 0; h < msg->header_count; h++)
        if (strcmp(msg->header_names[h], name) == 0)
            found = msg->header_values[h];
    return found;
}

rdapsync_record *record_upsert(rdapsync_batch *batch, const char *key, const char *json, int64_t offset)
{
    const rdapsync_host *h = host();
    char err[256] = "";
    rdapsync_record *r = h->record_add(batch);
    cr_assert_not_null(r);
    if (key)
        cr_assert_eq(h->record_set_key(batch, r, key, strlen(key)), 0);
    if (json) {
        rdapsync_value *v = h->json->parse(json, strlen(json), err, sizeof(err));
        cr_assert_not_null(v, "test JSON '%s': %s", json, err);
        cr_assert_eq(h->record_set_value(batch, r, v), 0);
    }
    cr_assert_eq(h->record_set_position(batch, r, "in", 0, offset), 0);
    return r;
}

rdapsync_record *record_delete(rdapsync_batch *batch, const char *key, int64_t offset)
{
    rdapsync_record *r = record_upsert(batch, key, NULL, offset);
    cr_assert_eq(host()->record_set_op(batch, r, RDAPSYNC_OP_DELETE), 0);
    return r;
}

const char *header_of(const rdapsync_record *r, const char *name)
{
    const rdapsync_header *h = host()->record_header(r, name);
    return h ? h->value : NULL;
}

char *dump_sorted(const rdapsync_value *v) { return host()->json->dump(v, RDAPSYNC_DUMP_SORT_KEYS, NULL); }
