/*
 * `rdapsync run`: a supervisor per pipeline, and a main thread that does
 * nothing but wait for events on a self-pipe: signals (written by the
 * handlers, the only thing they do) and "a task slot ended" notices from
 * supervisor threads.
 *
 *   SIGTERM / SIGINT  stop polling, deliver, checkpoint, close; exit 0 (or
 *                     1 if a task had failed for good). A second one exits
 *                     at once with 130: what was committed stays committed,
 *                     the rest is delivered again on the next start.
 *   SIGHUP            reload the file; on errors keep the running config;
 *                     otherwise restart only the pipelines that changed
 *                     (fingerprint), stop removed ones, start new ones.
 *
 * Worker threads block these signals, so plugins' system calls are never
 * interrupted by them; only the main thread takes them.
 *
 *   SIGPIPE           ignored for the whole process before any plugin is
 *                     loaded (loader_ignore_sigpipe, loader.c), and never
 *                     blocked: a write to a closed connection fails with
 *                     EPIPE and the plugin answers RETRY. Not restored on
 *                     exit: plugins stay loaded until the process ends.
 */
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/audit.h"
#include "base/checkpoint.h"
#include "base/diag.h"
#include "base/log.h"
#include "base/metrics.h"
#include "http/http.h"
#include "runtime/notify.h"
#include "runtime/progress.h"
#include "runtime/supervisor.h"
#include "runtime/task_suppress.h"
#include "trace/otel.h"

#define EXIT_SECOND_SIGNAL 130

/* A configuration shared by the supervisors that borrow its pipelines. */
typedef struct config_ref {
    rdapsync_config *config;
    int users; /* supervisors + 1 while it is the current one */
} config_ref;

typedef struct running {
    supervisor *sup;
    config_ref *ref;
    /* A changed pipeline waits for its old supervisor to drain (same
     * checkpoint files) before the new one starts. */
    const pipeline_config *next;
    config_ref *next_ref;
} running;

typedef struct runtime {
    config_ref *current;
    plugin_registry *registry;
    char *state_dir; /* fixed at start: changing it needs a restart */
    running *items;
    size_t count, capacity;
    /* Pipelines whose every slot ended (finished or failed), kept until
     * exit or until the pipeline starts again, so that /status and
     * /metrics still show how they ended. */
    running *ended;
    size_t ended_count, ended_capacity;
    bool draining;
    bool any_failed;
    bool any_failed_to_start;
} runtime;

static int event_pipe[2] = {-1, -1};

static void signal_handler(int signo)
{
    int saved = errno;
    unsigned char byte = (unsigned char)signo;
    /* Nonblocking: if the pipe is full, a wakeup is already pending. */
    ssize_t ignored = write(event_pipe[1], &byte, 1);
    (void)ignored;
    errno = saved;
}

static void slot_ended(void *opaque)
{
    unsigned char byte = 0;
    ssize_t ignored = write(event_pipe[1], &byte, 1);
    (void)ignored;
    (void)opaque;
}

static void ref_release(config_ref *ref)
{
    if (ref && --ref->users == 0) {
        config_free(ref->config);
        free(ref);
    }
}

static config_ref *ref_new(rdapsync_config *config)
{
    config_ref *ref = calloc(1, sizeof(*ref));
    if (!ref)
        return NULL;
    ref->config = config;
    ref->users = 1;
    return ref;
}

/* Supervisor threads must start with the signals blocked. */
static supervisor *start_blocked(runtime *rt, const pipeline_config *pipeline)
{
    sigset_t set, old;
    supervisor *sup;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    sup = supervisor_start(pipeline, rt->state_dir, slot_ended, rt);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (sup)
        log_write(RDAPSYNC_LOG_INFO, pipeline->name, -1, NULL, NULL, "pipeline started with %d task(s)",
                  pipeline->tasks);
    else
        log_write(RDAPSYNC_LOG_ERROR, pipeline->name, -1, NULL, NULL, "pipeline could not start its threads");
    return sup;
}

static const pipeline_config *find_pipeline(const rdapsync_config *config, const char *name);

/* Frees the ended supervisor of `name` (a new one takes its place), or with
 * `name` NULL those of pipelines the current configuration no longer has. */
static void forget_ended(runtime *rt, const char *name)
{
    size_t out = 0;

    for (size_t i = 0; i < rt->ended_count; i++) {
        running *r = &rt->ended[i];
        const char *ended = supervisor_pipeline(r->sup)->name;
        bool forget = name ? strcmp(ended, name) == 0 : !find_pipeline(rt->current->config, ended);
        if (!forget) {
            rt->ended[out++] = *r;
            continue;
        }
        supervisor_free(r->sup);
        ref_release(r->ref);
    }
    rt->ended_count = out;
}

/* Keeps an ended supervisor (and its config) for the endpoint; frees it
 * when out of memory. */
static void keep_ended(runtime *rt, supervisor *sup, config_ref *ref)
{
    if (rt->ended_count == rt->ended_capacity) {
        size_t capacity = rt->ended_capacity ? rt->ended_capacity * 2 : 8;
        running *grown = realloc(rt->ended, capacity * sizeof(*grown));
        if (!grown) {
            supervisor_free(sup);
            ref_release(ref);
            return;
        }
        rt->ended = grown;
        rt->ended_capacity = capacity;
    }
    rt->ended[rt->ended_count++] = (running){sup, ref, NULL, NULL};
}

static int add_running(runtime *rt, const pipeline_config *pipeline, config_ref *ref)
{
    if (rt->count == rt->capacity) {
        size_t capacity = rt->capacity ? rt->capacity * 2 : 8;
        running *grown = realloc(rt->items, capacity * sizeof(*grown));
        if (!grown)
            return -1;
        rt->items = grown;
        rt->capacity = capacity;
    }
    forget_ended(rt, pipeline->name);
    supervisor *sup = start_blocked(rt, pipeline);
    if (!sup)
        return -1;
    ref->users++;
    rt->items[rt->count++] = (running){sup, ref, NULL, NULL};
    return 0;
}

static const pipeline_config *find_pipeline(const rdapsync_config *config, const char *name)
{
    for (size_t i = 0; i < config->pipeline_count; i++)
        if (strcmp(config->pipelines[i].name, name) == 0)
            return &config->pipelines[i];
    return NULL;
}

static bool is_running(const runtime *rt, const char *name)
{
    for (size_t i = 0; i < rt->count; i++)
        if (strcmp(supervisor_pipeline(rt->items[i].sup)->name, name) == 0)
            return true;
    return false;
}

/* Sets aside the supervisors that ended (kept for /status until exit);
 * starts their successors after a reload. */
static void reap(runtime *rt)
{
    size_t out = 0;

    for (size_t i = 0; i < rt->count; i++) {
        running *r = &rt->items[i];
        if (!supervisor_done(r->sup)) {
            rt->items[out++] = *r;
            continue;
        }
        if (supervisor_failed(r->sup))
            rt->any_failed = true;
        if (supervisor_failed_to_start(r->sup))
            rt->any_failed_to_start = true;
        const pipeline_config *next = r->next;
        config_ref *next_ref = r->next_ref;
        if (next && !rt->draining) {
            supervisor_free(r->sup);
            ref_release(r->ref);
            supervisor *sup = start_blocked(rt, next);
            if (sup) {
                rt->items[out++] = (running){sup, next_ref, NULL, NULL};
                continue;
            }
            rt->any_failed = true;
        } else if (find_pipeline(rt->current->config, supervisor_pipeline(r->sup)->name)) {
            keep_ended(rt, r->sup, r->ref);
        } else { /* removed by a reload: nothing left to show */
            supervisor_free(r->sup);
            ref_release(r->ref);
        }
        ref_release(next_ref);
    }
    rt->count = out;
}

static void drain(runtime *rt)
{
    if (rt->draining)
        return;
    rt->draining = true;
    http_set_draining(true);
    notify_send("STOPPING=1");
    log_info("draining: stopping every pipeline");
    for (size_t i = 0; i < rt->count; i++)
        supervisor_stop(rt->items[i].sup);
}

static bool same_text(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

/* The HTTP server's thread must start with the signals blocked, like the
 * supervisors'. `listen` NULL: serve the running endpoint with new
 * settings (a reload). */
static int start_http(const char *listen, const http_settings *settings)
{
    sigset_t set, old;
    char err[1536];
    int rc;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    rc = listen ? http_start(listen, settings, err, sizeof(err)) : http_reconfigure(settings, err, sizeof(err));
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        log_error("%s", err);
    return rc;
}

static int start_otel(const otel_settings *settings)
{
    char err[256];
    if (otel_start(settings, err, sizeof(err)) != 0) {
        log_error("%s", err);
        return -1;
    }
    return 0;
}

/* One audit line per pipeline whose redaction policy a reload changes,
 * adds or removes. */
static void audit_policy_changes(const rdapsync_config *before, const rdapsync_config *after)
{
    char was[20], now[20];
    for (size_t i = 0; i < after->pipeline_count; i++) {
        const pipeline_config *p = &after->pipelines[i];
        const pipeline_config *old = find_pipeline(before, p->name);
        if (old && old->policy_fingerprint == p->policy_fingerprint)
            continue;
        snprintf(now, sizeof(now), "%016llx", (unsigned long long)p->policy_fingerprint);
        if (old)
            snprintf(was, sizeof(was), "%016llx", (unsigned long long)old->policy_fingerprint);
        audit_event("policy_change", json_pack("{s:s, s:s?, s:s}", "pipeline", p->name, "before", old ? was : NULL,
                                               "after", now));
    }
    for (size_t i = 0; i < before->pipeline_count; i++) {
        const pipeline_config *old = &before->pipelines[i];
        if (find_pipeline(after, old->name))
            continue;
        snprintf(was, sizeof(was), "%016llx", (unsigned long long)old->policy_fingerprint);
        audit_event("policy_change", json_pack("{s:s, s:s, s:n}", "pipeline", old->name, "before", was, "after"));
    }
}

static int start_suppression(const keyed_path *settings)
{
    char err[512];
    if (task_suppress_start(settings, err, sizeof(err)) != 0) {
        log_error("compliance: %s", err);
        return -1;
    }
    return 0;
}

/* Opens the trail and says which policies the run starts with. */
static int start_audit(const rdapsync_config *config)
{
    const compliance_settings *c = &config->compliance;
    char err[512], fp[20];
    if (audit_start(c->audit.path, c->audit.key, c->audit.key_len, c->audit_sign_key, err, sizeof(err)) != 0) {
        log_error("audit: %s", err);
        return -1;
    }
    json_t *policies = json_object();
    for (size_t i = 0; i < config->pipeline_count; i++) {
        snprintf(fp, sizeof(fp), "%016llx", (unsigned long long)config->pipelines[i].policy_fingerprint);
        json_object_set_new(policies, config->pipelines[i].name, json_string(fp));
    }
    return audit_event("start", json_pack("{s:s, s:o}", "config", config->path, "policies", policies));
}

static void reload(runtime *rt)
{
    diag_list diags;
    rdapsync_config *fresh;
    config_ref *ref;
    const char *path = rt->current->config->path;

    log_info("SIGHUP: reloading %s", path);
    notify_send("RELOADING=1");
    diag_list_init(&diags);
    fresh = config_load(path, rt->registry, &diags);
    diag_print(&diags, stderr);
    diag_list_free(&diags);
    if (!fresh) {
        log_error("reload of %s failed; the running configuration stays", path);
        notify_send("READY=1");
        return;
    }
    ref = ref_new(fresh);
    if (!ref) {
        config_free(fresh);
        log_error("reload: out of memory; the running configuration stays");
        notify_send("READY=1");
        return;
    }
    if (!same_text(fresh->http_listen, rt->current->config->http_listen))
        log_warn("http.listen changed: it takes effect at the next start");
    else if (fresh->http_listen)
        start_http(NULL, &fresh->http); /* certificate files read again; on failure the old ones stay */
    if (!same_text(fresh->compliance.audit.path, rt->current->config->compliance.audit.path))
        log_warn("audit.path changed: it takes effect at the next start");
    if (!same_text(fresh->compliance.suppression.path, rt->current->config->compliance.suppression.path))
        log_warn("compliance.suppression changed: it takes effect at the next start");
    if (!same_text(fresh->otel.endpoint, rt->current->config->otel.endpoint))
        log_warn("otel.endpoint changed: otel settings take effect at the next start");

    audit_policy_changes(rt->current->config, fresh);

    /* Running pipelines: keep, restart (changed) or stop (removed). */
    for (size_t i = 0; i < rt->count; i++) {
        running *r = &rt->items[i];
        const pipeline_config *old = supervisor_pipeline(r->sup);
        const pipeline_config *now = find_pipeline(fresh, old->name);
        if (now && now->fingerprint == old->fingerprint && !r->next)
            continue;
        if (r->next) {
            ref_release(r->next_ref);
            r->next = NULL;
            r->next_ref = NULL;
        }
        if (now) {
            r->next = now;
            r->next_ref = ref;
            ref->users++;
            log_write(RDAPSYNC_LOG_INFO, old->name, -1, NULL, NULL, "pipeline changed: restarting");
        } else {
            log_write(RDAPSYNC_LOG_INFO, old->name, -1, NULL, NULL, "pipeline removed: stopping");
        }
        supervisor_stop(r->sup);
    }
    /* New pipelines. */
    for (size_t i = 0; i < fresh->pipeline_count; i++) {
        if (is_running(rt, fresh->pipelines[i].name))
            continue;
        if (add_running(rt, &fresh->pipelines[i], ref) != 0)
            rt->any_failed = true;
    }
    ref_release(rt->current);
    rt->current = ref;
    forget_ended(rt, NULL);
    notify_send("READY=1");
}

static int open_event_pipe(void)
{
    if (pipe(event_pipe) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(event_pipe[i], F_SETFL, fcntl(event_pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(event_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    return 0;
}

static void close_event_pipe(void)
{
    for (int i = 0; i < 2; i++) {
        if (event_pipe[i] >= 0)
            close(event_pipe[i]);
        event_pipe[i] = -1;
    }
}

static void handle_event(runtime *rt, unsigned char byte)
{
    int signo = byte;

    if (signo == 0)
        return; /* a slot ended: reap() runs after every wakeup */
    if (signo == SIGTERM || signo == SIGINT) {
        if (rt->draining) {
            log_error("second %s: exiting at once (uncommitted records are delivered again on the next start)",
                      signo == SIGTERM ? "SIGTERM" : "SIGINT");
            _exit(EXIT_SECOND_SIGNAL);
        }
        log_info("%s: draining", signo == SIGTERM ? "SIGTERM" : "SIGINT");
        drain(rt);
    } else if (signo == SIGHUP) {
        if (rt->draining)
            log_warn("SIGHUP while draining: ignored");
        else
            reload(rt);
    }
}

int runtime_run(rdapsync_config *config, plugin_registry *registry)
{
    runtime rt = {0};
    struct sigaction action, old_term, old_int, old_hup;
    int rc = EXIT_OK;

    log_configure(config->log_json, config->log_level);
    rt.registry = registry;
    rt.state_dir = strdup(config->state_dir ? config->state_dir : "var/state");
    rt.current = ref_new(config);
    if (!rt.state_dir || !rt.current) {
        log_error("out of memory");
        free(rt.state_dir);
        free(rt.current);
        config_free(config);
        return EXIT_RUNTIME;
    }
    if (checkpoint_mkdirs(rt.state_dir) != 0) {
        log_error("state directory %s: %s", rt.state_dir, strerror(errno));
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (open_event_pipe() != 0) {
        log_error("pipe: %s", strerror(errno));
        rc = EXIT_RUNTIME;
        goto done;
    }
    memset(&action, 0, sizeof(action));
    action.sa_handler = signal_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &action, &old_term);
    sigaction(SIGINT, &action, &old_int);
    sigaction(SIGHUP, &action, &old_hup);

    if (config->http_listen && start_http(config->http_listen, &config->http) != 0) {
        rc = EXIT_RUNTIME;
        goto restore;
    }
    if (config->otel.endpoint && start_otel(&config->otel) != 0) {
        rc = EXIT_RUNTIME;
        goto restore;
    }
    if (config->compliance.suppression.path && start_suppression(&config->compliance.suppression) != 0) {
        rc = EXIT_RUNTIME;
        goto restore;
    }
    if (config->compliance.audit.path && start_audit(config) != 0) {
        rc = EXIT_RUNTIME;
        goto restore;
    }
    progress_start();
    for (size_t i = 0; i < config->pipeline_count; i++) {
        if (add_running(&rt, &config->pipelines[i], rt.current) != 0) {
            rc = EXIT_RUNTIME;
            drain(&rt);
            break;
        }
    }
    if (!rt.draining)
        notify_send("READY=1");

    while (rt.count > 0) {
        struct pollfd pfd = {.fd = event_pipe[0], .events = POLLIN};
        unsigned char bytes[64];
        ssize_t n;

        reap(&rt);
        if (rt.count == 0)
            break;
        if (poll(&pfd, 1, progress_timeout_ms()) < 0 && errno != EINTR) {
            log_error("poll: %s", strerror(errno));
            drain(&rt);
        }
        while ((n = read(event_pipe[0], bytes, sizeof(bytes))) > 0)
            for (ssize_t i = 0; i < n; i++)
                handle_event(&rt, bytes[i]);
        progress_tick();
    }
    progress_stop();

restore:
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    if (rc == EXIT_OK && rt.any_failed_to_start)
        rc = EXIT_RUNTIME;
    else if (rc == EXIT_OK && rt.any_failed)
        rc = EXIT_TASK_FAILED;
    log_info("exiting with status %d", rc);
done:
    for (size_t i = 0; i < rt.count; i++) {
        supervisor_free(rt.items[i].sup);
        ref_release(rt.items[i].ref);
        ref_release(rt.items[i].next_ref);
    }
    free(rt.items);
    /* After every task ended: their last spans are sent, their last batches audited. */
    otel_stop();
    audit_stop();
    task_suppress_stop();
    /* The endpoint reads the ended supervisors' statistics: stop it first. */
    http_stop();
    for (size_t i = 0; i < rt.ended_count; i++) {
        supervisor_free(rt.ended[i].sup);
        ref_release(rt.ended[i].ref);
    }
    free(rt.ended);
    ref_release(rt.current);
    close_event_pipe();
    free(rt.state_dir);
    return rc;
}
