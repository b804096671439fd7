/* RFC 9537 entries, classification and in-place replacement for one redaction pass. */
#include "rx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mask.h"
#include "rdapjson.h"

int rx_init(rx *x, const rdapsync_json_api *j, const policy *pol, int max_depth, char *err, size_t err_size)
{
    memset(x, 0, sizeof *x);
    x->j = j;
    x->pol = pol;
    x->max_depth = max_depth;
    x->err = err;
    x->err_size = err_size;
    jpath_init(&x->path);
    jpath_init(&x->pre);
    x->s_jsonpath = j->string_new("jsonpath", 8);
    for (int m = 0; m < 4; m++) {
        const char *name = rmethod_name((rmethod)m);
        x->s_method[m] = j->string_new(name, strlen(name));
        if (!x->s_method[m])
            return -1;
    }
    if (pol->reason && !(x->s_reason = j->string_new(pol->reason, strlen(pol->reason))))
        return -1;
    return x->s_jsonpath ? 0 : -1;
}

void rx_release(rx *x)
{
    x->j->decref(x->entries);
    x->j->decref(x->s_jsonpath);
    for (int m = 0; m < 4; m++)
        x->j->decref(x->s_method[m]);
    x->j->decref(x->s_reason);
    x->entries = x->s_jsonpath = x->s_reason = NULL;
    for (size_t i = 0; i < x->name_count; i++)
        x->j->decref(x->names[i].name);
    for (size_t i = 0; i < x->rule_count; i++) {
        x->j->decref(x->rules[i].reason);
        x->j->decref(x->rules[i].replacement);
    }
    x->name_count = x->rule_count = 0;
}

int rx_fail(rx *x, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!x->err || x->err_size == 0)
        return -1;
    n = snprintf(x->err, x->err_size, "%s: ", jpath_str(&x->pre));
    if (n < 0 || (size_t)n >= x->err_size)
        return -1;
    va_start(ap, fmt);
    vsnprintf(x->err + n, x->err_size - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

int rx_oom(rx *x)
{
    return rx_fail(x, "out of memory");
}

/* ---- names of redacted fields ---- */

/* The IANA "redacted name" registrations (ICANN's RDAP response profile);
 * any other name is written as a description. */
static const char *const registered_names[] = {
    "Registry Domain ID", "Registry Registrant ID", "Registrant Name",  "Registrant Organization",
    "Registrant Street",  "Registrant City",        "Registrant Postal Code", "Registrant Phone",
    "Registrant Phone Ext", "Registrant Fax",       "Registrant Fax Ext", "Registrant Email",
    "Registry Tech ID",   "Tech Name",              "Tech Phone",        "Tech Phone Ext",
    "Tech Email",
};

static const char *const field_words[RF_COUNT] = {
    [RF_NAME] = "Name",         [RF_ORGANIZATION] = "Organization", [RF_EMAIL] = "Email",
    [RF_PHONE] = "Phone",       [RF_FAX] = "Fax",                   [RF_CONTACT_URI] = "Contact URI",
    [RF_URL] = "URL",           [RF_PO_BOX] = "PO Box",             [RF_STREET] = "Street",
    [RF_LOCALITY] = "City",     [RF_REGION] = "State/Province",     [RF_POSTAL_CODE] = "Postal Code",
    [RF_COUNTRY] = "Country",   [RF_LABEL] = "Address Label",       [RF_HANDLE] = "ID",
    [RF_ENTITY] = "Contact",
};

static const char *const role_words[][2] = {
    {"registrant", "Registrant"}, {"technical", "Tech"},     {"administrative", "Admin"}, {"billing", "Billing"},
    {"abuse", "Abuse"},           {"registrar", "Registrar"}, {"reseller", "Reseller"},   {"sponsor", "Sponsor"},
    {"proxy", "Proxy"},           {"notifications", "Notifications"}, {"noc", "NOC"},
};

/* Appends s to buf (size bytes, NUL-terminated), cutting it when full. */
static size_t put(char *buf, size_t size, size_t at, const char *s)
{
    while (*s && at + 1 < size)
        buf[at++] = *s++;
    buf[at] = '\0';
    return at;
}

/* "Registrant Email", "Registry Tech ID", "Billing note": into buf. */
static void field_name(const char *role, rfield field, const char *property, char *buf, size_t size)
{
    const char *word = NULL;
    char own[32];
    size_t at = 0;

    for (size_t i = 0; role && i < sizeof role_words / sizeof role_words[0]; i++)
        if (strcasecmp(role, role_words[i][0]) == 0)
            word = role_words[i][1];
    if (!word && role) {
        put(own, sizeof own, 0, role);
        if (own[0] >= 'a' && own[0] <= 'z')
            own[0] = (char)(own[0] - 'a' + 'A');
        word = own;
    }
    if (!word)
        word = "Contact";
    if (field == RF_HANDLE && (strcmp(word, "Registrant") == 0 || strcmp(word, "Tech") == 0)) {
        at = put(buf, size, at, "Registry ");
        at = put(buf, size, at, word);
        put(buf, size, at, " ID");
        return;
    }
    at = put(buf, size, at, word);
    at = put(buf, size, at, " ");
    put(buf, size, at, field == RF_COUNT ? (property ? property : "property") : field_words[field]);
}

static bool registered(const char *name)
{
    for (size_t i = 0; i < sizeof registered_names / sizeof registered_names[0]; i++)
        if (strcmp(registered_names[i], name) == 0)
            return true;
    return false;
}

/* The `name` member of an entry (a new reference; NULL on allocation failure). */
static rdapsync_value *entry_name(rx *x, const subject *s, rfield field, const char *property)
{
    const rdapsync_json_api *j = x->j;
    const char *role = s->role_count ? s->roles[0] : "";
    char name[128];
    rdapsync_value *obj;

    for (size_t i = 0; i < x->name_count; i++)
        if (x->names[i].field == (int)field && strcmp(x->names[i].property, property ? property : "") == 0 &&
            strcasecmp(x->names[i].role, role) == 0)
            return j->incref(x->names[i].name);
    field_name(s->role_count ? role : NULL, field, property, name, sizeof name);
    obj = j->object_new();
    if (!obj || rj_set_string(j, obj, registered(name) ? "type" : "description", name, strlen(name)) != 0) {
        j->decref(obj);
        return NULL;
    }
    if (x->name_count < RX_CACHE && strlen(role) < sizeof x->names[0].role &&
        (!property || strlen(property) < sizeof x->names[0].property)) {
        size_t i = x->name_count++;
        put(x->names[i].role, sizeof x->names[i].role, 0, role);
        x->names[i].field = (int)field;
        put(x->names[i].property, sizeof x->names[i].property, 0, property ? property : "");
        x->names[i].name = j->incref(obj);
    }
    return obj;
}

/* The cache slot of a rule (NULL when the cache is full). */
static int rule_slot(rx *x, const rrule *rule)
{
    for (size_t i = 0; i < x->rule_count; i++)
        if (x->rules[i].rule == rule)
            return (int)i;
    if (x->rule_count == RX_CACHE)
        return -1;
    x->rules[x->rule_count].rule = rule;
    x->rules[x->rule_count].reason = NULL;
    x->rules[x->rule_count].replacement = NULL;
    return (int)x->rule_count++;
}

/* The `reason` member for a rule (a new reference), NULL when there is none or on failure. */
static rdapsync_value *entry_reason(rx *x, const rrule *rule, bool *oom)
{
    const rdapsync_json_api *j = x->j;
    int slot;
    rdapsync_value *reason;

    *oom = false;
    if (!rule->reason && !x->s_reason)
        return NULL;
    slot = rule_slot(x, rule);
    if (slot >= 0 && x->rules[slot].reason)
        return j->incref(x->rules[slot].reason);
    reason = j->object_new();
    if (!reason || (rule->reason ? rj_set_string(j, reason, "description", rule->reason, strlen(rule->reason))
                                 : rj_set_ref(j, reason, "description", x->s_reason)) != 0) {
        j->decref(reason);
        *oom = true;
        return NULL;
    }
    if (slot >= 0)
        x->rules[slot].reason = j->incref(reason);
    return reason;
}

int rx_entry(rx *x, const subject *s, rfield field, const char *property, const rrule *rule, rmethod method)
{
    const rdapsync_json_api *j = x->j;
    rdapsync_value *entry = j->object_new(), *name, *reason;
    const char *path = jpath_str(method == RM_REMOVAL ? &x->pre : &x->path);
    bool oom;

    if (!entry)
        return rx_oom(x);
    name = entry_name(x, s, field, property);
    if (!name || j->object_set(entry, "name", name) != 0)
        goto oom;
    if (rj_set_string(j, entry, method == RM_REMOVAL ? "prePath" : "postPath", path, strlen(path)) != 0 ||
        rj_set_ref(j, entry, "pathLang", x->s_jsonpath) != 0 ||
        rj_set_ref(j, entry, "method", x->s_method[method]) != 0)
        goto oom;
    reason = entry_reason(x, rule, &oom);
    if (oom || (reason && j->object_set(entry, "reason", reason) != 0))
        goto oom;
    if (!x->entries && !(x->entries = j->array_new()))
        goto oom;
    if (j->array_append(x->entries, entry) != 0)
        return rx_oom(x);
    x->result.redactions++;
    x->result.by_field[property && property[0] ? RF_COUNT : field]++;
    return 0;
oom:
    j->decref(entry);
    return rx_oom(x);
}

int rx_attach(rx *x, rdapsync_value *root, bool rdap)
{
    const rdapsync_json_api *j = x->j;
    rdapsync_value *entries = x->entries, *existing, *conformance;

    x->entries = NULL;
    if (!entries)
        return 0;
    existing = j->object_get(root, "redacted");
    if (j->type(existing) == RDAPSYNC_JSON_ARRAY) {
        for (size_t i = 0, n = j->array_size(entries); i < n; i++) {
            if (j->array_append(existing, j->incref(j->array_get(entries, i))) != 0) {
                j->decref(entries);
                return rx_oom(x);
            }
        }
        j->decref(entries);
    } else if (j->object_set(root, "redacted", entries) != 0) {
        return rx_oom(x);
    }
    if (!rdap)
        return 0;
    conformance = j->object_get(root, "rdapConformance");
    if (j->type(conformance) != RDAPSYNC_JSON_ARRAY) {
        conformance = j->array_new();
        if (!conformance || j->object_set(root, "rdapConformance", conformance) != 0 ||
            j->array_append(conformance, j->string_new("rdap_level_0", 12)) != 0)
            return rx_oom(x);
    }
    if (!rj_array_has_string(j, conformance, "redacted") &&
        j->array_append(conformance, j->string_new("redacted", 8)) != 0)
        return rx_oom(x);
    return 0;
}

void rx_classify(rx *x, const subject *s)
{
    rclass c = s->kind == KIND_INDIVIDUAL ? CLASS_PERSONAL
               : policy_public_subject(x->pol, s) ? CLASS_PUBLIC
                                                  : CLASS_BUSINESS;
    if (c > x->result.classification)
        x->result.classification = c;
}

/* The redacted text of `value` (a new reference), or NULL when it stays
 * (placeholder, no change). *oom on failure. */
static rdapsync_value *redacted_value(rx *x, rdapsync_value *value, const rrule *rule, rfield field, bool *oom)
{
    const rdapsync_json_api *j = x->j;
    const char *s = j->string_value(value);
    size_t len = j->string_length(value), out_len;
    char *text;
    rdapsync_value *v;

    *oom = false;
    if (!s || mask_is_placeholder(s, len))
        return NULL;
    if (rule->method == RM_REPLACEMENT_VALUE && rule->value) {
        int slot = rule_slot(x, rule);
        if (strcmp(s, rule->value) == 0)
            return NULL;
        if (slot >= 0 && x->rules[slot].replacement)
            return j->incref(x->rules[slot].replacement);
        v = j->string_new(rule->value, strlen(rule->value));
        if (!v)
            *oom = true;
        else if (slot >= 0)
            x->rules[slot].replacement = j->incref(v);
        return v;
    }
    text = mask_value(rule, field, s, len, &out_len);
    if (!text) {
        *oom = true;
        return NULL;
    }
    if (out_len == len && memcmp(text, s, len) == 0) {
        free(text);
        return NULL;
    }
    v = j->string_new(text, out_len);
    free(text);
    if (!v)
        *oom = true;
    return v;
}

rmethod rx_performed(const rrule *rule)
{
    /* A value cannot be removed from inside a structure that keeps its place. */
    return rule->method == RM_REMOVAL ? RM_EMPTY_VALUE : rule->method;
}

int rx_redact_in_array(rx *x, rdapsync_value *array, size_t index, const rrule *rule, rfield field,
                       const char *property, const subject *s, bool *changed)
{
    bool oom;
    rdapsync_value *v = redacted_value(x, x->j->array_get(array, index), rule, field, &oom);

    if (changed)
        *changed = false;
    if (oom)
        return rx_oom(x);
    if (!v)
        return 0;
    if (x->j->array_set(array, index, v) != 0)
        return rx_oom(x);
    if (changed)
        *changed = true;
    return x->quiet ? 0 : rx_entry(x, s, field, property, rule, rx_performed(rule));
}

int rx_redact_in_object(rx *x, rdapsync_value *object, const char *key, const rrule *rule, rfield field,
                        const char *property, const subject *s, bool *changed)
{
    bool oom;
    rdapsync_value *v = redacted_value(x, x->j->object_get(object, key), rule, field, &oom);

    if (changed)
        *changed = false;
    if (oom)
        return rx_oom(x);
    if (!v)
        return 0;
    if (x->j->object_set(object, key, v) != 0)
        return rx_oom(x);
    if (changed)
        *changed = true;
    return x->quiet ? 0 : rx_entry(x, s, field, property, rule, rx_performed(rule));
}

int rx_list_entry(rx *x, const subject *s, rfield field, const char *property, const rrule *rule, const char *items)
{
    size_t mark = items ? jpath_push_raw(&x->path, items) : x->path.len;
    int rc = rx_entry(x, s, field, property, rule, rx_performed(rule));

    jpath_pop(&x->path, mark);
    return rc;
}

uri_choice rx_uri_rule(rx *x, const char *uri, size_t len, const subject *s)
{
    uri_choice c = {.rule = policy_rule_for(x->pol, RF_CONTACT_URI, s), .field = RF_CONTACT_URI};
    bool mailto = len > 7 && strncasecmp(uri, "mailto:", 7) == 0;
    bool tel = len > 4 && strncasecmp(uri, "tel:", 4) == 0;

    c.personal = mailto || tel;
    if (c.rule)
        return c;
    if (mailto) {
        c.rule = policy_rule_for(x->pol, RF_EMAIL, s);
        c.field = RF_EMAIL;
    } else if (tel) {
        c.rule = policy_rule_for(x->pol, RF_PHONE, s);
        c.field = RF_PHONE;
    }
    return c;
}

int rx_redact_uri_at(rx *x, rdapsync_value *array, size_t index, const uri_choice *c, const subject *s, bool *changed)
{
    const rdapsync_json_api *j = x->j;
    rdapsync_value *v = j->array_get(array, index);
    const char *uri = j->string_value(v);
    size_t len = j->string_length(v), out_len = 0;
    char *masked, *text;
    rdapsync_value *nv;

    *changed = false;
    if (!c->rule)
        return 0;
    if (c->field != RF_EMAIL)
        return rx_redact_in_array(x, array, index, c->rule, c->field, NULL, s, changed);
    if (mask_is_placeholder(uri + 7, len - 7))
        return 0;
    masked = mask_value(c->rule, RF_EMAIL, uri + 7, len - 7, &out_len);
    if (!masked)
        return rx_oom(x);
    if (out_len == len - 7 && memcmp(masked, uri + 7, out_len) == 0) {
        free(masked);
        return 0;
    }
    text = malloc(out_len + 8);
    if (!text) {
        free(masked);
        return rx_oom(x);
    }
    memcpy(text, "mailto:", 7);
    memcpy(text + 7, masked, out_len);
    nv = j->string_new(text, out_len + 7);
    free(text);
    free(masked);
    if (!nv || j->array_set(array, index, nv) != 0)
        return rx_oom(x);
    *changed = true;
    return rx_entry(x, s, RF_EMAIL, NULL, c->rule, rx_performed(c->rule));
}
