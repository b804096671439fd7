/*
 * host/runtime/sink_access: a pipeline's sink or dead-letter sink opened
 * alone, as task i of n, for the ABI 1.5 calls; a sink without them is
 * reported as not supporting them; subjects are parsed as kind:value.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "loader.h"
#include "sink_access.h"

typedef struct fake { int task, tasks; bool closed; } fake;
static fake last;
static const rdapsync_host *H;

static rdapsync_status fake_open(rdapsync_ctx *ctx, const void *config, void **state, char *err, size_t err_size)
{
    (void)config, (void)err, (void)err_size;
    last = (fake){H->task_index(ctx), H->task_count(ctx), false};
    *state = &last;
    return RDAPSYNC_OK;
}
static void fake_close(void *state) { ((fake *)state)->closed = true; }
static rdapsync_status fake_write(void *s, const rdapsync_batch *b, char *e, size_t n)
{
    (void)s, (void)b, (void)e, (void)n;
    return RDAPSYNC_OK;
}
static rdapsync_status fake_flush(void *s, char *e, size_t n)
{
    (void)s, (void)e, (void)n;
    return RDAPSYNC_OK;
}
static rdapsync_status fake_find(void *state, const rdapsync_subject *s, rdapsync_subject_found_fn fn, void *arg,
                                 char *err, size_t err_size)
{
    (void)state, (void)err, (void)err_size;
    return fn(arg, &(rdapsync_subject_hit){"live", "k", 1, s->value, strlen(s->value)}) ? RDAPSYNC_ERROR
                                                                                         : RDAPSYNC_OK;
}
static rdapsync_status fake_erase(void *state, const rdapsync_subject *s, rdapsync_subject_rewrite_fn fn, void *arg,
                                  uint64_t *changed, char *err, size_t err_size)
{
    (void)state, (void)s, (void)fn, (void)arg, (void)err, (void)err_size;
    *changed = 3;
    return RDAPSYNC_OK;
}

static const rdapsync_plugin with_calls = {RDAPSYNC_DESCRIPTOR_HEADER, .name = "fake", .kind = RDAPSYNC_KIND_SINK,
                                           .open = fake_open, .close = fake_close, .write = fake_write,
                                           .flush = fake_flush, .subject_find = fake_find,
                                           .subject_erase = fake_erase};
static const rdapsync_plugin without = {RDAPSYNC_DESCRIPTOR_HEADER, .name = "plain", .kind = RDAPSYNC_KIND_SINK,
                                        .open = fake_open, .close = fake_close, .write = fake_write,
                                        .flush = fake_flush};

static int note_hit(void *arg, const rdapsync_subject_hit *hit)
{
    snprintf(arg, 64, "%s:%.*s", hit->where, (int)hit->document_len, hit->document);
    return 0;
}

Test(sink_access, opens_the_sink_as_the_given_task_and_calls_what_it_implements)
{
    H = host_api_table();
    loaded_plugin plugin = {.desc = &with_calls}, plain = {.desc = &without};
    pipeline_config p = {.name = "p", .tasks = 3, .sink = {.plugin = &plugin}, .has_dead_letter = true,
                         .dead_letter = {.plugin = &plain}};
    rdapsync_config config = {.state_dir = "/tmp"};
    sink_access a;
    char err[1024], seen[64] = "";
    cr_assert_eq(sink_access_open(&a, &config, &p, SINK_ACCESS_SINK, 2, err, sizeof err), RDAPSYNC_OK, "%s", err);
    cr_assert(last.task == 2 && last.tasks == 3, "opened as task %d of %d", last.task, last.tasks);
    cr_assert_eq(sink_access_find(&a, &(rdapsync_subject){"email", "x@y"}, note_hit, seen, err, sizeof err),
                 RDAPSYNC_OK);
    cr_assert_str_eq(seen, "live:x@y");
    uint64_t changed = 0;
    cr_assert_eq(sink_access_erase(&a, &(rdapsync_subject){"email", "x@y"}, NULL, NULL, &changed, err, sizeof err),
                 RDAPSYNC_OK);
    cr_assert_eq(changed, 3);
    cr_assert_eq(sink_access_purge(&a, 0, NULL, NULL, &changed, err, sizeof err), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "does not support retention_purge"), "%s", err);
    sink_access_close(&a);
    cr_assert(last.closed);

    cr_assert(!sink_access_supports(sink_access_block(&p, SINK_ACCESS_DEAD_LETTER), SINK_ACCESS_FIND));
    cr_assert_eq(sink_access_open(&a, &config, &p, SINK_ACCESS_DEAD_LETTER, 0, err, sizeof err), RDAPSYNC_OK);
    cr_assert_eq(sink_access_find(&a, &(rdapsync_subject){"email", "x@y"}, note_hit, seen, err, sizeof err),
                 RDAPSYNC_ERROR);
    cr_assert(strstr(err, "sink plain does not support subject_find"), "%s", err);
    sink_access_close(&a);
    p.has_dead_letter = false;
    cr_assert_eq(sink_access_open(&a, &config, &p, SINK_ACCESS_DEAD_LETTER, 0, err, sizeof err), RDAPSYNC_ERROR);
    cr_assert(strstr(err, "pipeline 'p' has no dead-letter sink"), "%s", err);
}

Test(sink_access, a_subject_is_a_known_kind_a_colon_and_a_value)
{
    rdapsync_subject s;
    char err[256], text[] = "email:someone@example.net", bad[] = "ssn:1", empty[] = "name:", bare[] = "x";
    cr_assert_eq(sink_access_parse_subject(text, &s, err, sizeof err), 0);
    cr_assert_str_eq(s.kind, "email");
    cr_assert_str_eq(s.value, "someone@example.net");
    cr_assert_eq(sink_access_parse_subject(bad, &s, err, sizeof err), -1);
    cr_assert_str_eq(bad, "ssn:1", "a refused subject is left as it was");
    cr_assert_eq(sink_access_parse_subject(empty, &s, err, sizeof err), -1);
    cr_assert_eq(sink_access_parse_subject(bare, &s, err, sizeof err), -1);
    cr_assert(strstr(err, "email:VALUE"));
}
