/*
 * Whether a stored document concerns a subject, the same for every sink
 * (sinktk.h, "Subjects and retention"). Values are compared in a normal
 * form produced one character at a time, so neither side is copied.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rdapsync/sinktk.h"

typedef const rdapsync_json_api jsonapi;

/* ---- normal forms ---- */

typedef struct norm_iter {
    const char *p, *end;
    rdapsync_sinktk_subject_kind kind;
    bool started, pending_space;
} norm_iter;

static void norm_start(norm_iter *it, rdapsync_sinktk_subject_kind kind, const char *s, size_t len)
{
    memset(it, 0, sizeof(*it));
    it->p = s;
    it->end = s + len;
    it->kind = kind;
    if (kind == RDAPSYNC_SINKTK_SUBJECT_PHONE) {
        /* A vCard tel URI: "tel:+1.5555550234;ext=7"; the extension is not
         * part of who is called. */
        if (len >= 4 && strncasecmp(s, "tel:", 4) == 0)
            it->p += 4;
        const char *semi = memchr(it->p, ';', (size_t)(it->end - it->p));
        if (semi)
            it->end = semi;
    } else if (kind != RDAPSYNC_SINKTK_SUBJECT_NAME) {
        while (it->p < it->end && isspace((unsigned char)*it->p))
            it->p++;
        while (it->end > it->p && isspace((unsigned char)it->end[-1]))
            it->end--;
    }
}

/* The next character of the normal form, or -1 at its end. */
static int norm_next(norm_iter *it)
{
    while (it->p < it->end) {
        unsigned char c = (unsigned char)*it->p;
        switch (it->kind) {
        case RDAPSYNC_SINKTK_SUBJECT_PHONE:
            it->p++;
            if (isdigit(c))
                return c;
            continue;
        case RDAPSYNC_SINKTK_SUBJECT_NAME:
            if (isspace(c)) {
                it->p++;
                it->pending_space = it->started;
                continue;
            }
            if (it->pending_space) {
                it->pending_space = false;
                return ' ';
            }
            it->started = true;
            it->p++;
            return tolower(c);
        default:
            it->p++;
            return tolower(c);
        }
    }
    return -1;
}

static bool normal_equal(rdapsync_sinktk_subject_kind kind, const char *s, size_t len, const char *normal)
{
    norm_iter it;
    norm_start(&it, kind, s, len);
    size_t i = 0;
    for (int c; (c = norm_next(&it)) >= 0; i++)
        if (normal[i] == '\0' || (unsigned char)normal[i] != c)
            return false;
    return normal[i] == '\0';
}

/* ---- prepare ---- */

static const char *const kind_names[] = {"email", "handle", "name", "phone"};

static bool needle_safe(const char *s, size_t len)
{
    /* Bytes the serialiser escapes would not appear as such in the text. */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
            return false;
    return len > 0;
}

/* The longest word of a normal-form name: names are matched with their
 * white space collapsed, so only a word is sure to appear as it is. */
static char *name_needle(const char *normal)
{
    const char *best = NULL;
    size_t best_len = 0;
    for (const char *p = normal; *p;) {
        size_t n = strcspn(p, " ");
        if (n > best_len && needle_safe(p, n)) {
            best = p;
            best_len = n;
        }
        p += n;
        p += strspn(p, " ");
    }
    return best ? strndup(best, best_len) : NULL;
}

rdapsync_status rdapsync_sinktk_subject_prepare(rdapsync_sinktk_subject *out, const rdapsync_subject *s, char *err,
                                                size_t err_size)
{
    memset(out, 0, sizeof(*out));
    int kind = -1;
    for (int i = 0; s && s->kind && i < 4; i++)
        if (strcmp(s->kind, kind_names[i]) == 0)
            kind = i;
    if (kind < 0 || !s->value) {
        snprintf(err, err_size, "unknown subject kind \"%s\" (email, handle, name, phone)",
                 s && s->kind ? s->kind : "");
        return RDAPSYNC_ERROR;
    }
    out->kind = (rdapsync_sinktk_subject_kind)kind;
    size_t len = strlen(s->value), n = 0;
    if (!(out->normal = malloc(len + 1))) {
        snprintf(err, err_size, "out of memory");
        return RDAPSYNC_ERROR;
    }
    norm_iter it;
    norm_start(&it, out->kind, s->value, len);
    for (int c; (c = norm_next(&it)) >= 0;)
        out->normal[n++] = (char)c;
    out->normal[n] = '\0';
    if (n == 0 || (out->kind == RDAPSYNC_SINKTK_SUBJECT_PHONE && n < 4)) {
        snprintf(err, err_size, out->kind == RDAPSYNC_SINKTK_SUBJECT_PHONE ? "a phone subject needs at least 4 digits"
                                                                           : "the subject's %s is empty",
                 kind_names[kind]);
        rdapsync_sinktk_subject_free(out);
        return RDAPSYNC_ERROR;
    }
    if (out->kind == RDAPSYNC_SINKTK_SUBJECT_NAME)
        out->needle = name_needle(out->normal);
    else if (out->kind != RDAPSYNC_SINKTK_SUBJECT_PHONE && needle_safe(out->normal, n))
        out->needle = strdup(out->normal);
    return RDAPSYNC_OK;
}

void rdapsync_sinktk_subject_free(rdapsync_sinktk_subject *subject)
{
    free(subject->normal);
    free(subject->needle);
    memset(subject, 0, sizeof(*subject));
}

/* ---- matching ---- */

typedef struct matcher {
    jsonapi *j;
    const rdapsync_sinktk_subject *s;
} matcher;

static bool string_is(const matcher *m, const rdapsync_value *v)
{
    return m->j->type(v) == RDAPSYNC_JSON_STRING &&
           normal_equal(m->s->kind, m->j->string_value(v), m->j->string_length(v), m->s->normal);
}

static bool mailto_is(const matcher *m, const rdapsync_value *v)
{
    if (m->j->type(v) != RDAPSYNC_JSON_STRING || m->j->string_length(v) < 7 ||
        strncasecmp(m->j->string_value(v), "mailto:", 7) != 0)
        return false;
    const char *addr = m->j->string_value(v) + 7;
    return normal_equal(m->s->kind, addr, strcspn(addr, "?"), m->s->normal);
}

/* Whether any item of the array `list` (or `member` of each item, when not
 * NULL) passes `test`. */
static bool any_of(const matcher *m, const rdapsync_value *list, const char *member,
                   bool (*test)(const matcher *, const rdapsync_value *))
{
    size_t n = m->j->type(list) == RDAPSYNC_JSON_ARRAY ? m->j->array_size(list) : 0;
    for (size_t i = 0; i < n; i++) {
        const rdapsync_value *item = m->j->array_get(list, i);
        if (member)
            item = m->j->type(item) == RDAPSYNC_JSON_OBJECT ? m->j->object_get(item, member) : NULL;
        if (item && test(m, item))
            return true;
    }
    return false;
}

/* A unified-shape contact (docs/unified-shape.md, "Contacts"). */
static bool contact_is(const matcher *m, const rdapsync_value *c)
{
    jsonapi *j = m->j;
    if (j->type(c) != RDAPSYNC_JSON_OBJECT)
        return false;
    switch (m->s->kind) {
    case RDAPSYNC_SINKTK_SUBJECT_EMAIL:
        return any_of(m, j->object_get(c, "emails"), NULL, string_is) ||
               any_of(m, j->object_get(c, "contact_uris"), NULL, mailto_is);
    case RDAPSYNC_SINKTK_SUBJECT_HANDLE:
        return string_is(m, j->object_get(c, "handle"));
    case RDAPSYNC_SINKTK_SUBJECT_NAME:
        return string_is(m, j->object_get(c, "name")) || any_of(m, j->object_get(c, "alt_names"), "value", string_is);
    case RDAPSYNC_SINKTK_SUBJECT_PHONE:
        return any_of(m, j->object_get(c, "phones"), "number", string_is) ||
               any_of(m, j->object_get(c, "faxes"), "number", string_is);
    }
    return false;
}

static bool contacts_are(const matcher *m, const rdapsync_value *list)
{
    return any_of(m, list, NULL, contact_is);
}

static bool unified_is(const matcher *m, rdapsync_value *doc)
{
    jsonapi *j = m->j;
    const rdapsync_value *registrar = j->object_get(doc, "registrar");
    if (registrar && (contact_is(m, registrar) || contacts_are(m, j->object_get(registrar, "abuse"))))
        return true;
    if (contact_is(m, j->object_get(doc, "entity")))
        return true;
    rdapsync_value *contacts = j->object_get(doc, "contacts");
    if (j->type(contacts) == RDAPSYNC_JSON_OBJECT)
        for (rdapsync_value_iter *it = j->object_iter(contacts); it; it = j->object_iter_next(contacts, it))
            if (contacts_are(m, j->object_iter_value(it)))
                return true;
    const rdapsync_value *klass = j->object_get(doc, "object_class");
    return m->s->kind == RDAPSYNC_SINKTK_SUBJECT_HANDLE && klass && j->string_value(klass) &&
           strcmp(j->string_value(klass), "entity") == 0 && string_is(m, j->object_get(doc, "handle"));
}

/* One jCard property [name, params, type, value] of a raw RDAP entity. */
static bool vcard_property_is(const matcher *m, const rdapsync_value *prop)
{
    jsonapi *j = m->j;
    static const char *const wanted[] = {"email", "handle", "fn", "tel"};
    const char *name = j->string_value(j->array_get(prop, 0));
    if (!name || j->array_size(prop) < 4 || strcasecmp(name, wanted[m->s->kind]) != 0)
        return false;
    return string_is(m, j->array_get(prop, 3));
}

static bool raw_entity_is(const matcher *m, rdapsync_value *obj)
{
    jsonapi *j = m->j;
    if (m->s->kind == RDAPSYNC_SINKTK_SUBJECT_HANDLE)
        return string_is(m, j->object_get(obj, "handle"));
    const rdapsync_value *card = j->object_get(obj, "vcardArray");
    const rdapsync_value *props = j->type(card) == RDAPSYNC_JSON_ARRAY ? j->array_get(card, 1) : NULL;
    size_t n = j->type(props) == RDAPSYNC_JSON_ARRAY ? j->array_size(props) : 0;
    for (size_t i = 0; i < n; i++) {
        const rdapsync_value *prop = j->array_get(props, i);
        if (j->type(prop) == RDAPSYNC_JSON_ARRAY && vcard_property_is(m, prop))
            return true;
    }
    return false;
}

/* Every raw RDAP entity at any depth; the walk is bounded by the parser's
 * nesting limit. */
static bool raw_walk(const matcher *m, rdapsync_value *v)
{
    jsonapi *j = m->j;
    if (j->type(v) == RDAPSYNC_JSON_ARRAY) {
        for (size_t i = 0, n = j->array_size(v); i < n; i++)
            if (raw_walk(m, j->array_get(v, i)))
                return true;
        return false;
    }
    if (j->type(v) != RDAPSYNC_JSON_OBJECT)
        return false;
    const char *klass = j->string_value(j->object_get(v, "objectClassName"));
    if ((j->object_get(v, "vcardArray") || (klass && strcmp(klass, "entity") == 0)) && raw_entity_is(m, v))
        return true;
    for (rdapsync_value_iter *it = j->object_iter(v); it; it = j->object_iter_next(v, it))
        if (raw_walk(m, j->object_iter_value(it)))
            return true;
    return false;
}

bool rdapsync_sinktk_subject_match(const rdapsync_host *host, const rdapsync_sinktk_subject *subject,
                                   const rdapsync_value *doc)
{
    matcher m = {host->json, subject};
    if (!doc || !subject->normal || m.j->type(doc) != RDAPSYNC_JSON_OBJECT)
        return false;
    /* The accessors take non-const containers for iteration only. */
    rdapsync_value *d = (rdapsync_value *)doc;
    return unified_is(&m, d) || raw_walk(&m, d);
}

int rdapsync_sinktk_subject_match_text(const rdapsync_host *host, const rdapsync_sinktk_subject *subject,
                                       const char *json, size_t len)
{
    char reason[256];
    rdapsync_value *doc = host->json->parse(json, len, reason, sizeof(reason));
    if (!doc)
        return -1;
    int yes = rdapsync_sinktk_subject_match(host, subject, doc);
    host->json->decref(doc);
    return yes;
}

int rdapsync_sinktk_subject_found(void *scan, const char *key, size_t key_len, const char *json, size_t len,
                                  char *err, size_t err_size)
{
    const rdapsync_sinktk_subject_scan *f = scan;
    int yes = f->heads ? rdapsync_sinktk_subject_match_heads_text(f->host, f->subject, json, len)
                       : rdapsync_sinktk_subject_match_text(f->host, f->subject, json, len);
    if (yes < 0) {
        snprintf(err, err_size, "%s sink: %s row of key \"%.200s\" is not JSON", f->sink, f->where, key);
        return -1;
    }
    if (yes && f->fn(f->arg, &(rdapsync_subject_hit){f->where, key, key_len, json, len}) != 0) {
        snprintf(err, err_size, "stopped by the caller");
        return -1;
    }
    return 0;
}

char *rdapsync_sinktk_like_pattern(const char *needle)
{
    size_t len = strlen(needle), n = 0;
    char *out = malloc(2 * len + 3);
    if (!out)
        return NULL;
    out[n++] = '%';
    for (size_t i = 0; i < len; i++) {
        if (needle[i] == '%' || needle[i] == '_' || needle[i] == '\\')
            out[n++] = '\\';
        out[n++] = needle[i];
    }
    out[n++] = '%';
    out[n] = '\0';
    return out;
}
