/* `rdapsync erase`, `access` and `retention` (compliance_cmd.h). */
#include "cli/compliance_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <rdapsync/sinktk.h>

#include "base/audit.h"
#include "base/log.h"
#include "base/suppression.h"
#include "runtime/doc_redactor.h"
#include "runtime/erase_journal.h"
#include "runtime/retention.h"
#include "runtime/runtime.h"
#include "runtime/sink_access.h"

typedef struct walk {
    const rdapsync_config *config;
    const compliance_request *req;
    FILE *out, *err;
    rdapsync_subject subject;
    rdapsync_sinktk_subject prepared;
    erase_journal *journal;
    json_t *sinks;    /* the audit line's per-sink results */
    json_t *holdings; /* access: the documents found */
    json_t *seen;     /* access: a shared store answers every task index alike */
    uint64_t total;
    bool incomplete;
    int64_t now_ms;
    /* The sink being visited. */
    const pipeline_config *p;
    const char *target;
    int task;
    uint64_t by_where[4]; /* dry run: live, history, heads, other */
} walk;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "a<sep>b..." joined into a malloc'd string (caller frees); NULL on failure. */
static char *join(const char *sep, const char *a, const char *b)
{
    size_t size = strlen(a) + strlen(sep) + strlen(b) + 1;
    char *text = malloc(size);
    if (text)
        snprintf(text, size, "%s%s%s", a, sep, b);
    return text;
}

static int count_hit(void *arg, const rdapsync_subject_hit *hit)
{
    walk *w = arg;
    static const char *const wheres[] = { "live", "history", "heads" };
    size_t i = 0;
    while (i < 3 && strcmp(hit->where, wheres[i]) != 0)
        i++;
    w->by_where[i]++;
    return 0;
}

static int collect_hit(void *arg, const rdapsync_subject_hit *hit)
{
    walk *w = arg;
    size_t size = strlen(w->p->name) + strlen(w->target) + strlen(hit->where) + hit->key_len + hit->document_len + 8;
    char *id = malloc(size);
    if (!id)
        return -1;
    snprintf(id, size, "%s\x1f%s\x1f%s\x1f%.*s\x1f%.*s", w->p->name, w->target, hit->where, (int)hit->key_len,
             hit->key ? hit->key : "", (int)hit->document_len, hit->document);
    if (json_object_get(w->seen, id)) {
        free(id);
        return 0;
    }
    json_object_set_new(w->seen, id, json_true());
    free(id);
    json_t *doc = json_loadb(hit->document, hit->document_len, 0, NULL);
    if (!doc)
        doc = json_stringn(hit->document, hit->document_len);
    json_t *row = json_pack("{s:s, s:s, s:s, s:s%, s:o}", "pipeline", w->p->name, "store", w->target, "where",
                            hit->where, "key", hit->key ? hit->key : "", hit->key ? hit->key_len : 0, "document",
                            doc);
    if (!row || !hit->key)
        json_object_set_new(row, "key", json_null());
    json_array_append_new(w->holdings, row);
    return 0;
}

/* The erasure rule (docs/compliance.md): a pipeline that redacts keeps
 * its records, redacted with the `suppress` policy; one that does not
 * loses them. */
static bool pipeline_redacts(const pipeline_config *p)
{
    for (size_t i = 0; i < p->transform_count; i++)
        if (p->transforms[i].name && strcmp(p->transforms[i].name, "redact") == 0)
            return p->suppress_block.plugin != NULL;
    return false;
}

/* One sink (or dead-letter sink) of one pipeline, as task `task`: find
 * (access, erase --dry-run) or erase. Retention is runtime/retention.c. */
static void visit(walk *w, const pipeline_config *p, sink_access_target target, int task)
{
    const plugin_block *block = sink_access_block(p, target);
    const compliance_request *req = w->req;
    bool dry = req->op == COMPLIANCE_ERASE && req->dry_run;
    sink_access_op op = req->op == COMPLIANCE_ACCESS || dry ? SINK_ACCESS_FIND : SINK_ACCESS_ERASE;
    char label[512], id[512], err[1024] = "";
    uint64_t changed = 0;
    rdapsync_status status = RDAPSYNC_OK;
    sink_access access;
    const char *outcome = "done";

    if (!block)
        return;
    w->p = p;
    w->target = target == SINK_ACCESS_DEAD_LETTER ? "dead_letter" : "sink";
    w->task = task;
    memset(w->by_where, 0, sizeof(w->by_where));
    snprintf(label, sizeof(label), "pipeline %s, %s %s%s", p->name,
             target == SINK_ACCESS_DEAD_LETTER ? "dead-letter sink" : "sink", block->name, "");
    if (p->tasks > 1)
        snprintf(label + strlen(label), sizeof(label) - strlen(label), " (task %d)", task);
    snprintf(id, sizeof(id), "%s/%s/%d", p->name, w->target, task);

    if (!sink_access_supports(block, op)) {
        fprintf(w->out, "%s: not covered (the %s plugin cannot %s)\n", label, block->name,
                op == SINK_ACCESS_FIND ? "find subjects" : "erase");
        outcome = "not covered";
        w->incomplete = true;
        goto record;
    }
    if (op == SINK_ACCESS_ERASE && erase_journal_done(w->journal, id, &changed)) {
        fprintf(w->out, "%s: erased %llu document%s (in an earlier run)\n", label, (unsigned long long)changed,
                changed == 1 ? "" : "s");
        w->total += changed;
        goto record;
    }
    doc_redactor redactor = { 0 };
    bool redacts = op == SINK_ACCESS_ERASE && pipeline_redacts(p);
    if (redacts && doc_redactor_open(&redactor, w->config, p, &p->suppress_block, err, sizeof(err)) != 0)
        status = RDAPSYNC_ERROR;
    else
        status = sink_access_open(&access, w->config, p, target, task, err, sizeof(err));
    if (status == RDAPSYNC_OK) {
        if (op == SINK_ACCESS_ERASE)
            status = sink_access_erase(&access, &w->subject, redacts ? doc_redactor_rewrite : NULL,
                                       redacts ? &redactor : NULL, &changed, err, sizeof(err));
        else
            status = sink_access_find(&access, &w->subject, dry ? count_hit : collect_hit, w, err, sizeof(err));
        sink_access_close(&access);
    }
    if (redacts)
        doc_redactor_close(&redactor);
    if (status != RDAPSYNC_OK) {
        fprintf(w->out, "%s: %s: %s\n", label, status == RDAPSYNC_RETRY ? "unreachable" : "failed", err);
        outcome = "failed";
        w->incomplete = true;
        goto record;
    }
    if (op == SINK_ACCESS_ERASE && erase_journal_mark(w->journal, id, changed) != 0)
        log_warn("erase journal: %s", strerror(errno));
    if (dry) {
        changed = w->by_where[0] + w->by_where[1] + w->by_where[2] + w->by_where[3];
        fprintf(w->out, "%s: would erase %llu document%s (live %llu, history %llu, heads %llu, other %llu)\n", label,
                (unsigned long long)changed, changed == 1 ? "" : "s", (unsigned long long)w->by_where[0],
                (unsigned long long)w->by_where[1], (unsigned long long)w->by_where[2],
                (unsigned long long)w->by_where[3]);
    } else if (op == SINK_ACCESS_ERASE) {
        fprintf(w->out, "%s: erased %llu document%s%s\n", label, (unsigned long long)changed, changed == 1 ? "" : "s",
                redacts ? " (redacted, or deleted where the subject was still named)" : " (deleted)");
    } else {
        fprintf(w->out, "%s: searched\n", label);
    }
    w->total += changed;
record:
    json_array_append_new(w->sinks, json_pack("{s:s, s:s, s:s, s:i, s:s, s:I}", "pipeline", p->name, "store",
                                              w->target, "plugin", block->name, "task", task, "outcome", outcome,
                                              "count", (json_int_t)changed));
}

static void visit_all(walk *w)
{
    for (size_t i = 0; i < w->config->pipeline_count; i++) {
        const pipeline_config *p = &w->config->pipelines[i];
        for (int target = SINK_ACCESS_SINK; target <= SINK_ACCESS_DEAD_LETTER; target++)
            for (int task = 0; task < (p->tasks > 0 ? p->tasks : 1); task++)
                visit(w, p, (sink_access_target)target, task);
    }
}

/* The access document to req->out (0600, replaced whole) or to out. */
static int write_access(walk *w, const char *subject_text)
{
    char when[32];
    time_t t = (time_t)(w->now_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *doc = json_pack("{s:s, s:s, s:O, s:b}", "subject", subject_text, "generated", when, "holdings",
                            w->holdings, "complete", !w->incomplete);
    int rc = -1;
    if (!w->req->out) {
        rc = json_dumpf(doc, w->out, JSON_INDENT(2)) == 0 && fputc('\n', w->out) != EOF ? 0 : -1;
    } else {
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", w->req->out);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (f && json_dumpf(doc, f, JSON_INDENT(2)) == 0 && fflush(f) == 0 && fsync(fd) == 0) {
            fclose(f);
            rc = rename(tmp, w->req->out);
        } else if (f) {
            fclose(f);
        } else if (fd >= 0) {
            close(fd);
        }
        if (rc != 0) {
            fprintf(w->err, "rdapsync access: cannot write %s: %s\n", w->req->out, strerror(errno));
            unlink(tmp);
        } else {
            fprintf(w->out, "wrote %s (%zu document%s)\n", w->req->out, json_array_size(w->holdings),
                    json_array_size(w->holdings) == 1 ? "" : "s");
        }
    }
    json_decref(doc);
    return rc;
}

/* The subject as the trail writes it: keyed hash of its compare form. */
static void subject_fields(walk *w, json_t *fields)
{
    char hash[AUDIT_HASH_HEX], *text = join(":", w->subject.kind, w->prepared.normal);
    if (text && audit_subject(text, hash) == 0)
        json_object_set_new(fields, "subject", json_string(hash));
    free(text);
}

static int start_trail(const rdapsync_config *config, FILE *err)
{
    const compliance_settings *c = &config->compliance;
    char reason[512];
    if (!c->audit.path)
        return 0;
    if (audit_start(c->audit.path, c->audit.key, c->audit.key_len, c->audit_sign_key, reason, sizeof(reason)) != 0) {
        fprintf(err, "rdapsync: audit: %s\n", reason);
        return -1;
    }
    return 0;
}

/* Erase: the subject goes on the suppression list before any sink is touched. */
static int suppress(walk *w)
{
    const keyed_path *s = &w->config->compliance.suppression;
    char reason[512];
    suppression_list *list = suppression_open(s->path, s->key, s->key_len, reason, sizeof(reason));
    int rc = list ? suppression_add(list, w->subject.kind, w->prepared.normal, reason, sizeof(reason)) : -1;
    suppression_close(list);
    if (rc != 0)
        fprintf(w->err, "rdapsync erase: %s; nothing erased\n", reason);
    return rc;
}

static int run_subject(walk *w, char *subject_text)
{
    const compliance_request *req = w->req;
    char reason[512];
    char *clear = strdup(subject_text);
    int rc = EXIT_OK;

    if (!clear || sink_access_parse_subject(subject_text, &w->subject, reason, sizeof(reason)) != 0 ||
        rdapsync_sinktk_subject_prepare(&w->prepared, &w->subject, reason, sizeof(reason)) != RDAPSYNC_OK) {
        fprintf(w->err, "rdapsync: --subject: %s\n", clear ? reason : "out of memory");
        free(clear);
        return EXIT_CONFIG;
    }
    json_t *fields = json_object();
    subject_fields(w, fields);
    if (req->op == COMPLIANCE_RESTRICT) {
        /* Art. 18: kept where it is, but no new data about the subject comes in. */
        rc = suppress(w) != 0 ? EXIT_RUNTIME : audit_event("restrict", json_incref(fields)) != 0 ? EXIT_RUNTIME
                                                                                                   : EXIT_OK;
        if (rc == EXIT_OK)
            fprintf(w->out, "suppressed: records about the subject are redacted on the way in; stored data is "
                            "unchanged\n");
        goto done;
    }
    if (req->op == COMPLIANCE_ERASE) {
        /* The journal is named by the subject's hash on the suppression
         * list: the state directory never names the subject. */
        const keyed_path *list = &w->config->compliance.suppression;
        char hash[AUDIT_HASH_HEX], *text = join(":", w->subject.kind, w->prepared.normal);
        if (!text || audit_keyed_hash(list->key, list->key_len, text, hash) != 0) {
            free(text);
            rc = EXIT_RUNTIME;
            goto done;
        }
        free(text);
        if (!req->dry_run && (suppress(w) != 0 || !(w->journal = erase_journal_open(w->config->state_dir, hash,
                                                                                     reason, sizeof(reason))))) {
            if (!w->journal && reason[0])
                fprintf(w->err, "rdapsync erase: %s\n", reason);
            rc = EXIT_RUNTIME;
            goto done;
        }
        if (w->journal && erase_journal_resumed(w->journal))
            fprintf(w->out, "resuming an erasure stopped after %zu sink%s\n", erase_journal_resumed(w->journal),
                    erase_journal_resumed(w->journal) == 1 ? "" : "s");
    }
    visit_all(w);
    if (req->op == COMPLIANCE_ACCESS && write_access(w, clear) != 0)
        w->incomplete = true;
    if (req->op == COMPLIANCE_ERASE && !req->dry_run && !w->incomplete)
        erase_journal_finish(w->journal);
    json_object_set_new(fields, "dry_run", json_boolean(req->dry_run));
    json_object_set_new(fields, "documents", json_integer((json_int_t)(req->op == COMPLIANCE_ACCESS
                                                                           ? json_array_size(w->holdings)
                                                                           : w->total)));
    json_object_set_new(fields, "complete", json_boolean(!w->incomplete));
    json_object_set(fields, "sinks", w->sinks);
    if (!(req->op == COMPLIANCE_ERASE && req->dry_run) &&
        audit_event(req->op == COMPLIANCE_ERASE ? "erase" : "access", json_incref(fields)) != 0)
        rc = EXIT_RUNTIME;
    if (rc == EXIT_OK && w->incomplete)
        rc = EXIT_TASK_FAILED;
done:
    json_decref(fields);
    erase_journal_close(w->journal);
    rdapsync_sinktk_subject_free(&w->prepared);
    OPENSSL_cleanse(clear, strlen(clear));
    free(clear);
    return rc;
}

int compliance_cmd_run(const rdapsync_config *config, plugin_registry *registry, const compliance_request *req,
                       FILE *out, FILE *err)
{
    walk w = { .config = config, .req = req, .out = out, .err = err, .now_ms = now_ms() };
    int rc;
    (void)registry;

    log_configure(config->log_json, config->log_level);
    if ((req->op == COMPLIANCE_ERASE || req->op == COMPLIANCE_RESTRICT) && !config->compliance.suppression.path) {
        fprintf(err, "rdapsync: %s has no compliance: { suppression: FILE, key: ... } block: an erased subject "
                     "must go on the suppression list, or the next sync brings its data back; nothing done\n",
                config->path);
        return EXIT_CONFIG;
    }
    if (start_trail(config, err) != 0)
        return EXIT_RUNTIME;
    w.sinks = json_array();
    w.holdings = json_array();
    w.seen = json_object();
    if (req->op == COMPLIANCE_RETENTION) {
        rc = retention_purge_all(config, "command", w.now_ms, out) ? EXIT_TASK_FAILED : EXIT_OK;
    } else {
        char *subject = strdup(req->subject);
        rc = subject ? run_subject(&w, subject) : EXIT_RUNTIME;
        free(subject);
    }
    json_decref(w.sinks);
    json_decref(w.holdings);
    json_decref(w.seen);
    audit_stop();
    return rc;
}
