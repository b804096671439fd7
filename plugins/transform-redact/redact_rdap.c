/*
 * Redaction of raw RDAP: every object with a vcardArray, at any depth, is a
 * contact; its jCard properties are redacted by the policy's rules. Every
 * object with objectClassName that is not inside another one is an RDAP
 * root: paths start there and its entries go into its `redacted` member.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jcard.h"
#include "mask.h"
#include "rdapjson.h"
#include "redact_internal.h"

#define F(field) (1u << (field))

/* Indices of properties to remove, applied from the end once the walk of the list is done. */
typedef struct removals {
    size_t small[32];
    size_t *items;
    size_t count, capacity;
} removals;

static int removals_add(removals *r, size_t index)
{
    if (!r->items) {
        r->items = r->small;
        r->capacity = sizeof r->small / sizeof r->small[0];
    }
    if (r->count == r->capacity) {
        size_t cap = r->capacity * 2;
        size_t *grown = r->items == r->small ? malloc(cap * sizeof *grown) : realloc(r->items, cap * sizeof *grown);
        if (!grown)
            return -1;
        if (r->items == r->small)
            memcpy(grown, r->small, sizeof r->small);
        r->items = grown;
        r->capacity = cap;
    }
    r->items[r->count++] = index;
    return 0;
}

static void removals_free(removals *r)
{
    if (r->items != r->small)
        free(r->items);
}

/* ---- the subject of an entity ---- */

/* Roles (of `entity`, which may be NULL), kind, country and region of a
 * contact, without judging its shape (the jCard walk reports malformed members). */
static int raw_subject(rx *x, rdapsync_value *entity, rdapsync_value *vcard, subject *s)
{
    const rdapsync_json_api *j = x->j;
    rdapsync_value *roles = j->object_get(entity, "roles");
    rdapsync_value *list = j->array_get(vcard, 1);

    memset(s, 0, sizeof *s);
    if (roles && j->type(roles) != RDAPSYNC_JSON_ARRAY && j->type(roles) != RDAPSYNC_JSON_NULL) {
        rx_mark mark = rx_push_key(x, "roles");
        rx_fail(x, "expected an array of roles, got %s", rj_type_name(j->type(roles)));
        rx_pop(x, mark);
        return -1;
    }
    for (size_t i = 0, n = j->array_size(roles); i < n && s->role_count < 16; i++) {
        const char *role = j->string_value(j->array_get(roles, i));
        if (role)
            s->roles[s->role_count++] = role;
    }
    for (size_t i = 0, n = j->array_size(list); i < n; i++) {
        rdapsync_value *prop = j->array_get(list, i);
        const char *name = j->string_value(j->array_get(prop, 0));
        rdapsync_value *value = j->array_get(prop, 3);
        if (!name || strcasecmp(name, "adr") != 0)
            continue;
        s->country = rj_string_member(j, j->array_get(prop, 1), "cc");
        if (!s->country || !*s->country)
            s->country = j->string_value(j->array_get(value, 6));
        s->region = j->string_value(j->array_get(value, 4));
        break;
    }
    policy_resolve_kind(x->pol, s, jcard_kind(j, vcard));
    return 0;
}

/* A jCard by its shape: ["vcard", [...]], wherever it is. */
static bool is_jcard(const rdapsync_json_api *j, rdapsync_value *v)
{
    const char *tag = j->string_value(j->array_get(v, 0));
    return j->type(v) == RDAPSYNC_JSON_ARRAY && tag && strcmp(tag, "vcard") == 0 &&
           j->type(j->array_get(v, 1)) == RDAPSYNC_JSON_ARRAY;
}

/* ---- one property ---- */

typedef struct prop_ctx {
    rx *x;
    const subject *s;
    jcard_prop p;
    size_t index;      /* in the property list as it came (prePaths) */
    size_t post_index; /* in the list once earlier removals are done (postPaths) */
    removals *removed;
    bool held_data;    /* the contact had data that classifies it */
} prop_ctx;

static bool has_text(const rdapsync_json_api *j, rdapsync_value *v)
{
    const char *s = j->string_value(v);
    return s && !mask_is_placeholder(s, j->string_length(v));
}

/* Whether a component (string or array of strings) holds real text. */
static bool component_has_text(const rdapsync_json_api *j, rdapsync_value *v)
{
    if (j->type(v) == RDAPSYNC_JSON_ARRAY) {
        for (size_t i = 0, n = j->array_size(v); i < n; i++)
            if (has_text(j, j->array_get(v, i)))
                return true;
        return false;
    }
    return has_text(j, v);
}

/* The current paths are the property's: a removal is recorded with its prePath. */
static int remove_property(prop_ctx *c, rfield field, const char *property, const rrule *rule)
{
    if (removals_add(c->removed, c->index) != 0)
        return rx_oom(c->x);
    return rx_entry(c->x, c->s, field, property, rule, RM_REMOVAL);
}

/* A uri value that became text ("REDACTED") is no longer a uri. */
static int retype_as_text(prop_ctx *c)
{
    const rdapsync_json_api *j = c->x->j;

    if (!c->p.type || strcasecmp(c->p.type, "uri") != 0)
        return 0;
    return j->array_set(c->p.prop, 2, j->string_new("text", 4)) == 0 ? 0 : rx_oom(c->x);
}

/* container[index]: a string, or (structured) an array of strings, which
 * counts as one value (one entry at its path). */
static int redact_component(prop_ctx *c, rdapsync_value *container, size_t index, const rrule *rule, rfield field,
                            const char *property, bool *changed)
{
    rx *x = c->x;
    const rdapsync_json_api *j = x->j;
    rdapsync_value *v = j->array_get(container, index);
    int rc = 0;

    *changed = false;
    if (j->type(v) == RDAPSYNC_JSON_STRING)
        return rx_redact_in_array(x, container, index, rule, field, property, c->s, changed);
    if (j->type(v) != RDAPSYNC_JSON_ARRAY)
        return rx_fail(x, "expected a string, got %s", rj_type_name(j->type(v)));
    x->quiet++;
    for (size_t m = 0, n = j->array_size(v); m < n && rc == 0; m++) {
        rx_mark mark = rx_push_index(x, m, m);
        bool ch = false;
        if (j->type(j->array_get(v, m)) == RDAPSYNC_JSON_STRING)
            rc = rx_redact_in_array(x, v, m, rule, field, property, c->s, &ch);
        else
            rc = rx_fail(x, "expected a string, got %s", rj_type_name(j->type(j->array_get(v, m))));
        *changed = *changed || ch;
        rx_pop(x, mark);
    }
    x->quiet--;
    return rc == 0 && *changed && !x->quiet ? rx_list_entry(x, c->s, field, property, rule, NULL) : rc;
}

/* Every value of the property ([3], [4], ...) redacted in place: strings, or
 * (structured, as n and org) an array of components that are strings or
 * arrays of strings, recorded as one value. */
static int redact_values(prop_ctx *c, const rrule *rule, rfield field, const char *property, bool strings_only)
{
    rx *x = c->x;
    const rdapsync_json_api *j = x->j;
    bool any = false;

    for (size_t k = 0; k < c->p.value_count; k++) {
        rdapsync_value *v = j->array_get(c->p.prop, 3 + k);
        rx_mark mark = rx_push_index(x, 3 + k, 3 + k);
        bool changed = false;
        int rc = 0;
        if (j->type(v) == RDAPSYNC_JSON_STRING) {
            rc = rx_redact_in_array(x, c->p.prop, 3 + k, rule, field, property, c->s, &changed);
        } else if (j->type(v) == RDAPSYNC_JSON_ARRAY && !strings_only) {
            x->quiet++;
            for (size_t m = 0, n = j->array_size(v); m < n && rc == 0; m++) {
                rx_mark pm = rx_push_index(x, m, m);
                bool ch = false;
                rc = redact_component(c, v, m, rule, field, property, &ch);
                changed = changed || ch;
                rx_pop(x, pm);
            }
            x->quiet--;
            if (rc == 0 && changed)
                rc = rx_list_entry(x, c->s, field, property, rule, NULL);
        } else {
            rc = rx_fail(x, "expected a string value, got %s", rj_type_name(j->type(v)));
        }
        rx_pop(x, mark);
        if (rc != 0)
            return -1;
        any = any || changed;
    }
    if (any && (rule->method == RM_REPLACEMENT_VALUE || rule->method == RM_EMPTY_VALUE))
        return retype_as_text(c);
    return 0;
}

/* fn, n, org, email, url, tel: the whole property or each value. */
static int on_simple(prop_ctx *c, rfield field, bool structured)
{
    const rdapsync_json_api *j = c->x->j;
    const rrule *rule = policy_rule_for(c->x->pol, field, c->s);

    for (size_t k = 0; k < c->p.value_count; k++) {
        rdapsync_value *v = j->array_get(c->p.prop, 3 + k);
        if (component_has_text(j, v) && (field != RF_NAME || c->s->kind == KIND_INDIVIDUAL) &&
            field != RF_ORGANIZATION && field != RF_URL)
            c->held_data = true;
    }
    if (!rule)
        return 0;
    if (rule->method == RM_REMOVAL)
        return remove_property(c, field, NULL, rule);
    return redact_values(c, rule, field, NULL, !structured);
}

/* contact-uri: its own rule, else mailto: under the email rule and tel: under the phone rule. */
static int on_contact_uri(prop_ctx *c)
{
    rx *x = c->x;
    const rdapsync_json_api *j = x->j;

    for (size_t k = 0; k < c->p.value_count; k++) {
        rdapsync_value *v = j->array_get(c->p.prop, 3 + k);
        rx_mark mark = rx_push_index(x, 3 + k, 3 + k);
        uri_choice choice;
        bool changed = false;
        int rc = 0;

        if (j->type(v) != RDAPSYNC_JSON_STRING) {
            rx_fail(x, "expected a string value, got %s", rj_type_name(j->type(v)));
            rx_pop(x, mark);
            return -1;
        }
        choice = rx_uri_rule(x, j->string_value(v), j->string_length(v), c->s);
        c->held_data = c->held_data || choice.personal;
        if (choice.rule && choice.rule->method == RM_REMOVAL) {
            rx_pop(x, mark);
            return remove_property(c, choice.field, NULL, choice.rule);
        }
        rc = rx_redact_uri_at(x, c->p.prop, 3 + k, &choice, c->s, &changed);
        if (rc == 0 && changed && choice.field != RF_EMAIL && choice.rule->method != RM_PARTIAL_VALUE)
            rc = retype_as_text(c);
        rx_pop(x, mark);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static const rfield adr_fields[7] = {RF_PO_BOX, RF_STREET, RF_STREET, RF_LOCALITY, RF_REGION, RF_POSTAL_CODE,
                                     RF_COUNTRY};

/* A string parameter (label, cc) of the property under `rule`. */
static int redact_param(prop_ctx *c, const char *name, rfield field)
{
    rx *x = c->x;
    const rdapsync_json_api *j = x->j;
    rdapsync_value *v = j->object_get(c->p.params, name);
    const rrule *rule;
    rx_mark mark;
    int rc = 0;

    if (!v)
        return 0;
    mark = rx_push_index(x, 1, 1);
    rx_push_key(x, name);
    if (j->type(v) != RDAPSYNC_JSON_STRING) {
        rc = rx_fail(x, "expected a string, got %s", rj_type_name(j->type(v)));
        goto done;
    }
    if (field == RF_LABEL && has_text(j, v))
        c->held_data = true;
    rule = policy_rule_for(x->pol, field, c->s);
    if (!rule || mask_is_placeholder(j->string_value(v), j->string_length(v)))
        goto done;
    if (rule->method == RM_REMOVAL) {
        if (j->object_del(c->p.params, name) == 0)
            rc = rx_entry(x, c->s, field, NULL, rule, RM_REMOVAL);
    } else {
        rc = rx_redact_in_object(x, c->p.params, name, rule, field, NULL, c->s, NULL);
    }
done:
    rx_pop(x, mark);
    return rc;
}

/* adr: each part under its field's rule (removal empties a part: it keeps its place). */
static int on_adr(prop_ctx *c)
{
    rx *x = c->x;
    const rdapsync_json_api *j = x->j;
    rdapsync_value *value = c->p.value;
    rx_mark mark;
    int rc = 0;

    if (redact_param(c, "label", RF_LABEL) != 0 || redact_param(c, "cc", RF_COUNTRY) != 0)
        return -1;
    mark = rx_push_index(x, 3, 3);
    if (j->type(value) == RDAPSYNC_JSON_STRING) {
        /* A formatted address in place of the parts: as sensitive as a label. */
        const rrule *rule = policy_rule_for(x->pol, RF_LABEL, c->s);
        if (!rule)
            rule = policy_rule_for(x->pol, RF_STREET, c->s);
        if (has_text(j, value))
            c->held_data = true;
        if (rule)
            rc = rx_redact_in_array(x, c->p.prop, 3, rule, RF_LABEL, NULL, c->s, NULL);
    } else if (j->type(value) == RDAPSYNC_JSON_ARRAY) {
        for (size_t k = 0, n = j->array_size(value); k < n && k < 7 && rc == 0; k++) {
            rdapsync_value *part = j->array_get(value, k);
            rfield field = adr_fields[k];
            const rrule *rule = policy_rule_for(x->pol, field, c->s);
            rx_mark pm = rx_push_index(x, k, k);
            if ((k <= 2 || k == 5) && component_has_text(j, part))
                c->held_data = true;
            if (j->type(part) == RDAPSYNC_JSON_STRING) {
                if (rule)
                    rc = rx_redact_in_array(x, value, k, rule, field, NULL, c->s, NULL);
            } else if (j->type(part) == RDAPSYNC_JSON_ARRAY) {
                /* Several lines in one part: one value, one entry. */
                bool any = false;
                x->quiet++;
                for (size_t m = 0, lines = j->array_size(part); m < lines && rc == 0; m++) {
                    rx_mark lm = rx_push_index(x, m, m);
                    bool ch = false;
                    if (j->type(j->array_get(part, m)) != RDAPSYNC_JSON_STRING)
                        rc = rx_fail(x, "expected a string, got %s", rj_type_name(j->type(j->array_get(part, m))));
                    else if (rule)
                        rc = rx_redact_in_array(x, part, m, rule, field, NULL, c->s, &ch);
                    any = any || ch;
                    rx_pop(x, lm);
                }
                x->quiet--;
                if (rc == 0 && any)
                    rc = rx_list_entry(x, c->s, field, NULL, rule, NULL);
            } else {
                rc = rx_fail(x, "expected a string or an array of strings, got %s", rj_type_name(j->type(part)));
            }
            rx_pop(x, pm);
        }
    } else {
        rc = rx_fail(x, "expected an array of address parts, got %s", rj_type_name(j->type(value)));
    }
    rx_pop(x, mark);
    return rc;
}

/* Properties the policy names that are not fields (note, geo, title, ...). */
static int on_other(prop_ctx *c, const char *name)
{
    const rrule *rule = policy_rule_for_property(c->x->pol, name, c->s);

    if (!rule)
        return 0;
    if (rule->method == RM_REMOVAL)
        return remove_property(c, RF_COUNT, name, rule);
    /* Any value shape: strings are redacted, structured values part by part. */
    return redact_values(c, rule, RF_COUNT, name, false);
}

static int on_property(prop_ctx *c)
{
    const char *name = c->p.name;

    if (strcasecmp(name, "fn") == 0 || strcasecmp(name, "n") == 0)
        return on_simple(c, RF_NAME, strcasecmp(name, "n") == 0);
    if (strcasecmp(name, "org") == 0)
        return on_simple(c, RF_ORGANIZATION, true);
    if (strcasecmp(name, "email") == 0)
        return on_simple(c, RF_EMAIL, false);
    if (strcasecmp(name, "url") == 0)
        return on_simple(c, RF_URL, false);
    if (strcasecmp(name, "tel") == 0)
        return on_simple(c, jcard_has_type(c->x->j, c->p.params, "fax") ? RF_FAX : RF_PHONE, false);
    if (strcasecmp(name, "contact-uri") == 0)
        return on_contact_uri(c);
    if (strcasecmp(name, "adr") == 0)
        return on_adr(c);
    if (strcasecmp(name, "version") == 0 || strcasecmp(name, "kind") == 0)
        return 0;
    return on_other(c, name);
}

/* ---- one entity ---- */

static int walk(rx *x, rdapsync_value *v, int depth, bool in_root);
static bool may_hold_contacts(const rdapsync_json_api *j, rdapsync_value *v, int depth, int max_depth);

/* A hostile jCard may carry whole entities or other jCards inside its
 * property values or parameters: they are walked like any other place a
 * contact can hide. */
static int walk_inside_properties(rx *x, rdapsync_value *list)
{
    const rdapsync_json_api *j = x->j;
    int rc = 0;

    for (size_t i = 0, n = j->array_size(list); i < n && rc == 0; i++) {
        rdapsync_value *prop = j->array_get(list, i);
        for (size_t k = 1, m = j->array_size(prop); k < m && rc == 0; k++) {
            rdapsync_value *v = j->array_get(prop, k);
            if (!may_hold_contacts(j, v, 0, x->max_depth))
                continue;
            rx_mark pm = rx_push_index(x, i, i);
            rx_mark vm = rx_push_index(x, k, k);
            rc = walk(x, v, 1, false);
            rx_pop(x, vm);
            rx_pop(x, pm);
        }
    }
    return rc;
}

/* The jCard `vcard` at the current path. */
static int redact_vcard(rx *x, rdapsync_value *vcard, const subject *s, bool *held_data)
{
    const rdapsync_json_api *j = x->j;
    rdapsync_value *list;
    removals removed = {0};
    rx_mark mark = rx_here(x);
    int rc = 0;

    list = jcard_list(j, vcard, &x->pre, x->err, x->err_size);
    if (!list) {
        rx_pop(x, mark);
        return -1;
    }
    rx_push_index(x, 1, 1);
    for (size_t i = 0, n = j->array_size(list); i < n && rc == 0; i++) {
        prop_ctx c = {.x = x, .s = s, .index = i, .post_index = i - removed.count, .removed = &removed};
        rc = jcard_prop_read(j, list, i, &c.p, &x->pre, x->err, x->err_size);
        if (rc != 0)
            break;
        rx_mark pm = rx_push_index(x, c.post_index, i);
        rc = on_property(&c);
        rx_pop(x, pm);
        *held_data = *held_data || c.held_data;
    }
    for (size_t r = removed.count; rc == 0 && r > 0; r--)
        if (j->array_remove(list, removed.items[r - 1]) != 0)
            rc = rx_oom(x);
    removals_free(&removed);
    if (rc == 0)
        rc = walk_inside_properties(x, list);
    rx_pop(x, mark);
    return rc;
}

static int redact_handle(rx *x, rdapsync_value *entity, const subject *s)
{
    const rdapsync_json_api *j = x->j;
    rdapsync_value *handle = j->object_get(entity, "handle");
    const rrule *rule;
    rx_mark mark;
    int rc = 0;

    if (!handle || !(rule = policy_rule_for(x->pol, RF_HANDLE, s)))
        return 0;
    mark = rx_push_key(x, "handle");
    if (j->type(handle) != RDAPSYNC_JSON_STRING)
        rc = rx_fail(x, "expected a string, got %s", rj_type_name(j->type(handle)));
    else if (rule->method == RM_REMOVAL && j->string_length(handle))
        rc = j->object_del(entity, "handle") == 0 ? rx_entry(x, s, RF_HANDLE, NULL, rule, RM_REMOVAL) : 0;
    else if (rule->method != RM_REMOVAL)
        rc = rx_redact_in_object(x, entity, "handle", rule, RF_HANDLE, NULL, s, NULL);
    rx_pop(x, mark);
    return rc;
}

/* The entity at the current path: its handle and jCard. */
static int redact_entity(rx *x, rdapsync_value *entity)
{
    rdapsync_value *vcard = x->j->object_get(entity, "vcardArray");
    subject s;
    bool held = false;
    rx_mark mark;
    int rc = 0;

    if (raw_subject(x, entity, vcard, &s) != 0 || redact_handle(x, entity, &s) != 0)
        return -1;
    if (vcard && x->j->type(vcard) != RDAPSYNC_JSON_NULL) {
        mark = rx_push_key(x, "vcardArray");
        rc = redact_vcard(x, vcard, &s, &held);
        if (rc != 0)
            return -1;
        rx_pop(x, mark);
    }
    if (held)
        rx_classify(x, &s);
    return 0;
}

/* A jCard found under another name than vcardArray (at the current path):
 * redacted all the same, for the contact `owner` (may be NULL) describes. */
static int redact_stray_jcard(rx *x, rdapsync_value *owner, rdapsync_value *vcard)
{
    subject s;
    bool held = false;

    if (raw_subject(x, owner, vcard, &s) != 0 || redact_vcard(x, vcard, &s, &held) != 0)
        return -1;
    if (held)
        rx_classify(x, &s);
    return 0;
}

/* Whether a jCard holds data that classifies its contact, read leniently:
 * the contact is about to be removed whole, malformed or not. */
static bool vcard_held_data(const rdapsync_json_api *j, rdapsync_value *entity, const subject *s)
{
    rdapsync_value *list = j->array_get(j->object_get(entity, "vcardArray"), 1);

    for (size_t i = 0, n = j->array_size(list); i < n; i++) {
        rdapsync_value *prop = j->array_get(list, i);
        const char *name = j->string_value(j->array_get(prop, 0));
        rdapsync_value *value = j->array_get(prop, 3);
        if (!name)
            continue;
        if ((strcasecmp(name, "fn") == 0 && s->kind == KIND_INDIVIDUAL) || strcasecmp(name, "email") == 0 ||
            strcasecmp(name, "tel") == 0 || strcasecmp(name, "contact-uri") == 0) {
            if (component_has_text(j, value))
                return true;
        } else if (strcasecmp(name, "adr") == 0) {
            if (has_text(j, j->object_get(j->array_get(prop, 1), "label")) || j->type(value) == RDAPSYNC_JSON_STRING)
                return true;
            for (size_t k = 0; k < 6; k++)
                if ((k <= 2 || k == 5) && component_has_text(j, j->array_get(value, k)))
                    return true;
        }
    }
    return false;
}

/* The whole-contact rule for an entity, or NULL; *s gets its subject. */
static int removal_rule(rx *x, rdapsync_value *entity, subject *s, const rrule **rule)
{
    *rule = NULL;
    if (raw_subject(x, entity, x->j->object_get(entity, "vcardArray"), s) != 0)
        return -1;
    *rule = policy_rule_for(x->pol, RF_ENTITY, s);
    return 0;
}

/* Records the removal of the entity at the current path (its prePath). */
static int remove_entity(rx *x, rdapsync_value *entity, const subject *s, const rrule *rule)
{
    if (vcard_held_data(x->j, entity, s))
        rx_classify(x, s);
    return rx_entry(x, s, RF_ENTITY, NULL, rule, RM_REMOVAL);
}

/* ---- the walk ---- */

/* A contact: an object with a jCard, or an RDAP entity object. */
static bool is_entity(const rdapsync_json_api *j, rdapsync_value *object)
{
    const char *cls = rj_string_member(j, object, "objectClassName");
    return j->object_get(object, "vcardArray") || (cls && strcasecmp(cls, "entity") == 0);
}

static bool has_class(const rdapsync_json_api *j, rdapsync_value *object)
{
    return j->type(j->object_get(object, "objectClassName")) == RDAPSYNC_JSON_STRING;
}

/*
 * Whether anything below v may be a contact (a vcardArray or entity
 * object, a ["vcard", ...] array). A cheap pass without paths that lets
 * the walk skip nameservers, events, links, notices and the like; too deep
 * a subtree answers yes, so that the walk reports it.
 */
static bool may_hold_contacts(const rdapsync_json_api *j, rdapsync_value *v, int depth, int max_depth)
{
    rdapsync_value_type type = j->type(v);

    if (type != RDAPSYNC_JSON_ARRAY && type != RDAPSYNC_JSON_OBJECT)
        return false;
    if (depth >= max_depth)
        return true;
    if (type == RDAPSYNC_JSON_ARRAY) {
        size_t n = j->array_size(v);
        const char *tag = j->string_value(j->array_get(v, 0));
        if (tag && strcmp(tag, "vcard") == 0)
            return true;
        for (size_t i = 0; i < n; i++)
            if (may_hold_contacts(j, j->array_get(v, i), depth + 1, max_depth))
                return true;
        return false;
    }
    for (rdapsync_value_iter *it = j->object_iter(v); it; it = j->object_iter_next(v, it)) {
        const char *key = j->object_iter_key(it);
        rdapsync_value *member = j->object_iter_value(it);
        if (strcmp(key, "vcardArray") == 0)
            return true;
        if (strcmp(key, "objectClassName") == 0) {
            const char *cls = j->string_value(member);
            if (cls && strcasecmp(cls, "entity") == 0)
                return true;
            if (cls)
                continue;
            /* not a string: a hostile document may hide a jCard there */
        }
        if (may_hold_contacts(j, member, depth + 1, max_depth))
            return true;
    }
    return false;
}

/*
 * A contact a whole-entity rule takes out of its container: decided before
 * anything inside it is redacted, so no entry points into what is gone.
 * *removed tells whether it was (the entry is recorded at the current path).
 */
static int maybe_remove(rx *x, rdapsync_value *item, bool in_root, bool *removed)
{
    const rdapsync_json_api *j = x->j;
    const rrule *rule;
    subject s;

    *removed = false;
    if (j->type(item) != RDAPSYNC_JSON_OBJECT || !is_entity(j, item) || (!in_root && has_class(j, item)))
        return 0;
    if (removal_rule(x, item, &s, &rule) != 0)
        return -1;
    if (!rule)
        return 0;
    *removed = true;
    return remove_entity(x, item, &s, rule);
}

static int walk_array(rx *x, rdapsync_value *array, int depth, bool in_root)
{
    const rdapsync_json_api *j = x->j;
    removals removed = {0};
    int rc = 0;

    for (size_t i = 0, n = j->array_size(array); i < n && rc == 0; i++) {
        rdapsync_value *item = j->array_get(array, i);
        bool remove = false;
        if (!may_hold_contacts(j, item, depth + 1, x->max_depth))
            continue;
        rx_mark mark = rx_push_index(x, i, i);
        rc = maybe_remove(x, item, in_root, &remove);
        rx_pop(x, mark);
        if (rc == 0 && remove) {
            rc = removals_add(&removed, i) == 0 ? 0 : rx_oom(x);
            continue;
        }
        /* Paths inside the item name it where it will be once the removals are done. */
        mark = rx_push_index(x, i - removed.count, i);
        if (rc == 0 && is_jcard(j, item))
            rc = redact_stray_jcard(x, NULL, item);
        else if (rc == 0)
            rc = walk(x, item, depth + 1, in_root);
        rx_pop(x, mark);
    }
    for (size_t r = removed.count; rc == 0 && r > 0; r--)
        if (j->array_remove(array, removed.items[r - 1]) != 0)
            rc = rx_oom(x);
    removals_free(&removed);
    return rc;
}

static int walk_members(rx *x, rdapsync_value *object, int depth, bool in_root)
{
    const rdapsync_json_api *j = x->j;
    char **gone = NULL;
    size_t gone_count = 0;
    int rc = 0;

    for (rdapsync_value_iter *it = j->object_iter(object); it && rc == 0; it = j->object_iter_next(object, it)) {
        const char *key = j->object_iter_key(it);
        rdapsync_value *value = j->object_iter_value(it);
        bool remove = false;
        /* "redacted" is walked too: our own entries hold no contact, and a
         * hostile document may hide entities under that name. */
        if (strcmp(key, "vcardArray") == 0 || !may_hold_contacts(j, value, depth + 1, x->max_depth))
            continue;
        rx_mark mark = rx_push_key(x, key);
        rc = maybe_remove(x, value, in_root, &remove);
        if (rc == 0 && !remove && is_jcard(j, value))
            rc = redact_stray_jcard(x, object, value);
        else if (rc == 0 && !remove)
            rc = walk(x, value, depth + 1, in_root);
        rx_pop(x, mark);
        if (rc == 0 && remove) {
            /* A contact held directly by a member: the member goes, after the iteration. */
            char **grown = realloc(gone, (gone_count + 1) * sizeof *gone);
            char *copy = grown ? malloc(strlen(key) + 1) : NULL;
            if (grown)
                gone = grown;
            if (!copy) {
                rc = rx_oom(x);
                break;
            }
            strcpy(copy, key);
            gone[gone_count++] = copy;
        }
    }
    for (size_t i = 0; i < gone_count; i++) {
        if (rc == 0)
            j->object_del(object, gone[i]);
        free(gone[i]);
    }
    free(gone);
    return rc;
}

/* A contact that is the whole document cannot be removed from it. */
static int refuse_whole_removal(rx *x, rdapsync_value *entity)
{
    subject s;
    const rrule *rule;

    if (removal_rule(x, entity, &s, &rule) != 0)
        return -1;
    return rule ? rx_fail(x, "the policy removes this contact, which is the whole document") : 0;
}

/* A new RDAP root: its own paths and its own `redacted` member. */
static int walk_root(rx *x, rdapsync_value *root, int depth)
{
    jpath saved = x->path, saved_pre = x->pre;
    rdapsync_value *saved_entries = x->entries;
    int rc = 0;

    jpath_init(&x->path);
    jpath_init(&x->pre);
    x->entries = NULL;
    /* An entity lookup is itself a contact. */
    if (is_entity(x->j, root)) {
        rc = refuse_whole_removal(x, root);
        if (rc == 0)
            rc = redact_entity(x, root);
    }
    if (rc == 0)
        rc = walk_members(x, root, depth, true);
    if (rc == 0)
        rc = rx_attach(x, root, true);
    x->j->decref(x->entries);
    x->entries = saved_entries;
    if (rc == 0) {
        x->path = saved; /* on failure the paths name the place */
        x->pre = saved_pre;
    }
    return rc;
}

static int walk(rx *x, rdapsync_value *v, int depth, bool in_root)
{
    const rdapsync_json_api *j = x->j;
    rdapsync_value_type type = j->type(v);

    if (type != RDAPSYNC_JSON_ARRAY && type != RDAPSYNC_JSON_OBJECT)
        return 0;
    if (depth >= x->max_depth)
        return rx_fail(x, "nesting deeper than max_depth (%d)", x->max_depth);
    if (type == RDAPSYNC_JSON_ARRAY)
        return walk_array(x, v, depth, in_root);
    if (!in_root && has_class(j, v))
        return walk_root(x, v, depth);
    if (is_entity(j, v) && redact_entity(x, v) != 0)
        return -1;
    return walk_members(x, v, depth, in_root);
}

int redact_raw_members(rx *x, rdapsync_value *doc)
{
    return walk_members(x, doc, 0, false);
}

int redact_raw(rx *x, rdapsync_value *doc, int depth)
{
    const rdapsync_json_api *j = x->j;

    /* Containers decide removals of what they hold; the document itself has no container. */
    if (j->type(doc) == RDAPSYNC_JSON_OBJECT && is_entity(j, doc) && !has_class(j, doc) &&
        refuse_whole_removal(x, doc) != 0)
        return -1;
    if (walk(x, doc, depth, false) != 0)
        return -1;
    /* Contacts found outside any RDAP root: their entries go on the document itself. */
    if (x->entries && j->type(doc) == RDAPSYNC_JSON_OBJECT)
        return rx_attach(x, doc, false);
    return 0;
}
