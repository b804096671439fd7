/* One document through a policy: the redaction walk, then its metadata. */
#include "redact_doc.h"

#include <stdio.h>
#include <string.h>

#include "rdapjson.h"
#include "redact_internal.h"

/* normalize's output carries rdapsync.schema "rdapsync.unified/N". */
static bool is_unified(const rdapsync_json_api *j, const rdapsync_value *doc)
{
    const char *schema = rj_string_member(j, j->object_get(doc, "rdapsync"), "schema");
    return schema && strncmp(schema, "rdapsync.unified/", 17) == 0;
}

int redact_document(const rdapsync_json_api *json, const policy *pol, rdapsync_value *doc, int max_depth,
                    redact_result *result, char *err, size_t err_size)
{
    rx x;
    int rc;

    if (err && err_size)
        err[0] = '\0';
    memset(result, 0, sizeof *result);
    if (rx_init(&x, json, pol, max_depth, err, err_size) != 0) {
        rx_oom(&x);
        rx_release(&x);
        return -1;
    }
    if (is_unified(json, doc))
        rc = redact_unified(&x, doc);
    else
        rc = redact_raw(&x, doc, 0);
    *result = x.result;
    rx_release(&x);
    return rc;
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian; H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

const char *redact_field_counter(int f)
{
    /* In rfield order; metric names, so no dots. Not "redacted_...": the
     * plugin's own redacted_records must not count as a field. */
    static const char *const names[RF_COUNT + 1] = {
        "redactions_name",     "redactions_organization", "redactions_email",       "redactions_phone",
        "redactions_fax",      "redactions_contact_uri",  "redactions_url",         "redactions_po_box",
        "redactions_street",   "redactions_locality",     "redactions_region",      "redactions_postal_code",
        "redactions_country",  "redactions_label",        "redactions_handle",      "redactions_entity",
        "redactions_property",
    };
    return f >= 0 && f <= RF_COUNT ? names[f] : names[RF_COUNT];
}

bool redact_retention_until(const policy *pol, rclass c, int64_t base_ms, char *buf, size_t size)
{
    int64_t days = pol->retention_days[c], seconds, day, rem, year;
    unsigned month, mday;

    if (days < 0)
        return false;
    seconds = base_ms / 1000 + days * 86400;
    day = seconds / 86400;
    rem = seconds % 86400;
    if (rem < 0) {
        rem += 86400;
        day--;
    }
    civil_from_days(day, &year, &month, &mday);
    snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)year, month, mday, (int)(rem / 3600),
             (int)(rem % 3600 / 60), (int)(rem % 60));
    return true;
}

static int annotate_unified(const rdapsync_json_api *j, rdapsync_value *doc, const policy *pol, rclass c,
                            const char *until)
{
    rdapsync_value *meta = j->object_get(doc, "rdapsync");
    const char *name = rclass_name(c);

    if (j->type(meta) != RDAPSYNC_JSON_OBJECT)
        return -1;
    if (rj_set_string(j, meta, "classification", name, strlen(name)) != 0)
        return -1;
    if (until && rj_set_string(j, meta, "retention_until", until, strlen(until)) != 0)
        return -1;
    if (!until && j->object_get(meta, "retention_until"))
        j->object_del(meta, "retention_until");
    return rj_set_string(j, meta, "policy", pol->name, strlen(pol->name));
}

/* A notice keeps raw RDAP valid: notices are part of every top-most response (RFC 9083 §4.3). */
static int annotate_rdap(const rdapsync_json_api *j, rdapsync_value *doc, const policy *pol, rclass c,
                         const char *until)
{
    static const char title[] = "rdapsync data classification";
    rdapsync_value *notices = j->object_get(doc, "notices"), *notice = NULL, *lines = NULL;
    char line[160];
    int n;

    if (notices && j->type(notices) != RDAPSYNC_JSON_ARRAY)
        return 0; /* someone else's malformed member: leave it, the headers still say it */
    if (!notices) {
        notices = j->array_new();
        if (!notices || j->object_set(doc, "notices", notices) != 0)
            return -1;
    }
    /* A record redacted twice keeps one notice: the latest. */
    for (size_t i = j->array_size(notices); i > 0; i--) {
        const char *t = rj_string_member(j, j->array_get(notices, i - 1), "title");
        if (t && strcmp(t, title) == 0)
            j->array_remove(notices, i - 1);
    }
    notice = j->object_new();
    lines = j->array_new();
    if (!notice || !lines)
        goto fail;
    n = snprintf(line, sizeof line, "classification: %s", rclass_name(c));
    if (j->array_append(lines, j->string_new(line, (size_t)n)) != 0)
        goto fail;
    if (until) {
        n = snprintf(line, sizeof line, "retention until: %s", until);
        if (j->array_append(lines, j->string_new(line, (size_t)n)) != 0)
            goto fail;
    }
    n = snprintf(line, sizeof line, "redaction policy: %.100s", pol->name);
    if (j->array_append(lines, j->string_new(line, (size_t)n)) != 0)
        goto fail;
    if (rj_set_string(j, notice, "title", title, sizeof title - 1) != 0)
        goto fail;
    if (j->object_set(notice, "description", lines) != 0) {
        lines = NULL;
        goto fail;
    }
    return j->array_append(notices, notice);
fail:
    j->decref(lines);
    j->decref(notice);
    return -1;
}

int redact_annotate(const rdapsync_json_api *j, rdapsync_value *doc, const policy *pol, const redact_result *result,
                    const char *until)
{
    if (j->type(doc) != RDAPSYNC_JSON_OBJECT)
        return 0;
    if (result->unified)
        return annotate_unified(j, doc, pol, result->classification, until);
    if (j->type(j->object_get(doc, "objectClassName")) == RDAPSYNC_JSON_STRING)
        return annotate_rdap(j, doc, pol, result->classification, until);
    return 0;
}
