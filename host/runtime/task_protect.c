/*
 * errors.dead_letter.protect (docs/configuration.md): a dead letter's
 * document never leaves in clear when the pipeline asks so. `encrypt` seals
 * it whole with the encrypt transform and the dead letter's keyring (bound
 * to the record's key and version, so `dlq replay` opens it again); the raw
 * bytes of a record the source could not parse are sealed too, as
 * {"raw": TEXT} or {"raw_hex": HEX}. `redact` runs the pipeline's redact
 * transform on a copy of the document; raw bytes are dropped. Whatever
 * fails, the dead letter keeps its reason and place but no document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/batch.h"
#include "model/batch_api.h"
#include "model/json_api.h"
#include "base/log.h"
#include "runtime/task_shared.h"

/* The raw bytes as a JSON object; caller owns; NULL on allocation failure. */
static rdapsync_value *raw_document(const rdapsync_record *record)
{
    const rdapsync_json_api *j = json_api_table();
    rdapsync_value *doc = j->object_new();
    static const char hex[] = "0123456789abcdef";

    if (!doc)
        return NULL;
    if (batch_utf8_valid(record->raw, record->raw_len) && !memchr(record->raw, '\0', record->raw_len)) {
        if (j->object_set(doc, "raw", j->string_new(record->raw, record->raw_len)) != 0)
            goto fail;
        return doc;
    }
    char *text = malloc(record->raw_len * 2 + 1);
    if (!text)
        goto fail;
    for (size_t i = 0; i < record->raw_len; i++) {
        text[2 * i] = hex[(unsigned char)record->raw[i] >> 4];
        text[2 * i + 1] = hex[(unsigned char)record->raw[i] & 15];
    }
    int rc = j->object_set(doc, "raw_hex", j->string_new(text, record->raw_len * 2));
    free(text);
    if (rc != 0)
        goto fail;
    return doc;
fail:
    j->decref(doc);
    return NULL;
}

/* Takes the raw bytes off the dead letter (reason and place stay). */
static int drop_raw(rdapsync_batch *dead, rdapsync_record *copy)
{
    char reason[TASK_ERR_SIZE];

    snprintf(reason, sizeof(reason), "%s", copy->error ? copy->error : "bad record");
    return batch_record_set_bad(dead, copy, NULL, 0, reason);
}

static const instance *redact_instance(const struct task *t)
{
    for (size_t i = 0; i < t->transform_count; i++)
        if (strcmp(t->transforms[i].desc->name, "redact") == 0)
            return &t->transforms[i];
    return NULL;
}

/* Runs a transform on the dead letter; on anything but OK the document goes. */
static void run_protection(struct task *t, const instance *inst, rdapsync_batch *dead, rdapsync_record *copy)
{
    char err[TASK_ERR_SIZE] = "";
    rdapsync_status status = inst->desc->transform(inst->state, dead, copy, err, sizeof(err));

    if (status != RDAPSYNC_OK) {
        batch_record_set_value(dead, copy, NULL);
        log_write(RDAPSYNC_LOG_WARN, t->pipeline->name, t->index, "transform", inst->desc->name,
                  "dead letter written without its document: protecting it failed: %s", err[0] ? err : "no reason");
    }
}

void task_protect_dead_letter(struct task *t, rdapsync_batch *dead, rdapsync_record *copy)
{
    const rdapsync_json_api *j = json_api_table();
    dead_letter_protect protect = t->pipeline->protect;

    if (protect == PROTECT_NONE)
        return;
    if (protect == PROTECT_ENCRYPT) {
        if (copy->raw) {
            rdapsync_value *doc = raw_document(copy);
            if (drop_raw(dead, copy) != 0 || !doc || batch_record_set_value(dead, copy, doc) != 0) {
                batch_record_set_value(dead, copy, NULL);
                return;
            }
        }
        if (copy->value && t->protect.opened)
            run_protection(t, &t->protect, dead, copy);
        else
            batch_record_set_value(dead, copy, NULL);
        return;
    }
    /* PROTECT_REDACT: the shared document is copied first, the copy redacted. */
    const instance *redact = redact_instance(t);
    if (copy->raw)
        drop_raw(dead, copy);
    if (!copy->value)
        return;
    if (!redact || !redact->opened || batch_record_set_value(dead, copy, j->deep_copy(copy->value)) != 0 ||
        !copy->value) {
        batch_record_set_value(dead, copy, NULL);
        return;
    }
    run_protection(t, redact, dead, copy);
}
