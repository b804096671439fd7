/*
 * Redaction of unified documents (docs/unified-shape.md): the contacts are
 * at known places (registrar, registrar.abuse[], contacts.<role>[], entity)
 * and their fields are named as the policy names them.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mask.h"
#include "rdapjson.h"
#include "redact_internal.h"

static bool has_text(const rdapsync_json_api *j, rdapsync_value *v)
{
    const char *s = j->string_value(v);
    return s && !mask_is_placeholder(s, j->string_length(v));
}

static void unified_subject(rx *x, rdapsync_value *contact, subject *s)
{
    const rdapsync_json_api *j = x->j;
    rdapsync_value *roles = j->object_get(contact, "roles");
    rdapsync_value *first = j->array_get(j->object_get(contact, "addresses"), 0);

    memset(s, 0, sizeof *s);
    for (size_t i = 0, n = j->array_size(roles); i < n && s->role_count < 16; i++) {
        const char *role = j->string_value(j->array_get(roles, i));
        if (role)
            s->roles[s->role_count++] = role;
    }
    s->country = rj_string_member(j, first, "country_code");
    s->region = rj_string_member(j, first, "region");
    policy_resolve_kind(x->pol, s, rj_string_member(j, contact, "kind"));
}

/* Deletes member `key` (recorded with a prePath) when it is there. */
static int remove_member(rx *x, rdapsync_value *object, const char *key, const subject *s, rfield field,
                         const rrule *rule)
{
    rx_mark mark;
    int rc;

    if (!x->j->object_get(object, key))
        return 0;
    mark = rx_push_key(x, key);
    x->j->object_del(object, key);
    rc = rx_entry(x, s, field, NULL, rule, RM_REMOVAL);
    rx_pop(x, mark);
    return rc;
}

/* A string member under rule (removal deletes it); *changed (may be NULL) tells. */
static int string_member(rx *x, rdapsync_value *object, const char *key, const subject *s, rfield field,
                         const rrule *rule, bool *changed)
{
    rdapsync_value *v = x->j->object_get(object, key);
    rx_mark mark;
    int rc;

    if (changed)
        *changed = false;
    if (!v || !rule)
        return 0;
    if (x->j->type(v) != RDAPSYNC_JSON_STRING) {
        mark = rx_push_key(x, key);
        rc = rx_fail(x, "expected a string, got %s", rj_type_name(x->j->type(v)));
        rx_pop(x, mark);
        return rc;
    }
    if (rule->method == RM_REMOVAL)
        return mask_is_placeholder(x->j->string_value(v), x->j->string_length(v))
                   ? 0
                   : remove_member(x, object, key, s, field, rule);
    mark = rx_push_key(x, key);
    rc = rx_redact_in_object(x, object, key, rule, field, NULL, s, changed);
    rx_pop(x, mark);
    return rc;
}

/* The array member `key` (or NULL) after checking its type. */
static int array_member(rx *x, rdapsync_value *object, const char *key, rdapsync_value **out)
{
    rdapsync_value *v = x->j->object_get(object, key);

    *out = NULL;
    if (!v)
        return 0;
    if (x->j->type(v) != RDAPSYNC_JSON_ARRAY) {
        rx_mark mark = rx_push_key(x, key);
        rx_fail(x, "expected an array, got %s", rj_type_name(x->j->type(v)));
        rx_pop(x, mark);
        return -1;
    }
    *out = v;
    return 0;
}

/* An array of strings (emails, urls, street, organization_units). */
static int string_list(rx *x, rdapsync_value *object, const char *key, const subject *s, rfield field,
                       const rrule *rule, bool *held)
{
    const rdapsync_json_api *j = x->j;
    rdapsync_value *list;
    rx_mark mark;
    bool any = false;
    int rc = 0;

    if (array_member(x, object, key, &list) != 0)
        return -1;
    if (!list)
        return 0;
    for (size_t i = 0, n = j->array_size(list); held && i < n; i++)
        *held = *held || has_text(j, j->array_get(list, i));
    if (!rule)
        return 0;
    if (rule->method == RM_REMOVAL)
        return remove_member(x, object, key, s, field, rule);
    mark = rx_push_key(x, key);
    x->quiet++;
    for (size_t i = 0, n = j->array_size(list); i < n && rc == 0; i++) {
        rx_mark m = rx_push_index(x, i, i);
        bool ch = false;
        if (j->type(j->array_get(list, i)) != RDAPSYNC_JSON_STRING)
            rc = rx_fail(x, "expected a string, got %s", rj_type_name(j->type(j->array_get(list, i))));
        else
            rc = rx_redact_in_array(x, list, i, rule, field, NULL, s, &ch);
        any = any || ch;
        rx_pop(x, m);
    }
    x->quiet--;
    /* One entry for the list: "$...emails[*]". */
    if (rc == 0 && any)
        rc = rx_list_entry(x, s, field, NULL, rule, "[*]");
    rx_pop(x, mark);
    return rc;
}

/* phones / faxes: [{number, ext, types}]. */
static int phone_list(rx *x, rdapsync_value *contact, const char *key, const subject *s, rfield field, bool *held)
{
    const rdapsync_json_api *j = x->j;
    const rrule *rule = policy_rule_for(x->pol, field, s);
    rdapsync_value *list;
    rx_mark mark;
    bool any = false;
    int rc = 0;

    if (array_member(x, contact, key, &list) != 0)
        return -1;
    if (!list)
        return 0;
    for (size_t i = 0, n = j->array_size(list); i < n; i++)
        *held = *held || has_text(j, j->object_get(j->array_get(list, i), "number"));
    if (!rule)
        return 0;
    if (rule->method == RM_REMOVAL)
        return remove_member(x, contact, key, s, field, rule);
    mark = rx_push_key(x, key);
    x->quiet++;
    for (size_t i = 0, n = j->array_size(list); i < n && rc == 0; i++) {
        rdapsync_value *phone = j->array_get(list, i);
        rx_mark m = rx_push_index(x, i, i);
        bool ch = false;
        if (j->type(phone) != RDAPSYNC_JSON_OBJECT) {
            rc = rx_fail(x, "expected a phone object, got %s", rj_type_name(j->type(phone)));
        } else {
            rc = string_member(x, phone, "number", s, field, rule, &ch);
            any = any || ch;
            /* The extension goes with the number, except when digits are only masked. */
            if (rc == 0 && rule->method == RM_PARTIAL_VALUE)
                rc = string_member(x, phone, "ext", s, field, rule, NULL);
            else if (rc == 0 && j->object_get(phone, "ext"))
                j->object_del(phone, "ext");
        }
        rx_pop(x, m);
    }
    x->quiet--;
    /* One entry for the list: "$...phones[*].number". */
    if (rc == 0 && any)
        rc = rx_list_entry(x, s, field, NULL, rule, "[*].number");
    rx_pop(x, mark);
    return rc;
}

static int uri_list(rx *x, rdapsync_value *contact, const subject *s, bool *held)
{
    const rdapsync_json_api *j = x->j;
    rdapsync_value *list;
    rx_mark mark;
    size_t removed = 0;
    int rc = 0;

    if (array_member(x, contact, "contact_uris", &list) != 0)
        return -1;
    if (!list)
        return 0;
    mark = rx_push_key(x, "contact_uris");
    /* i walks the list as it came (prePaths), i - removed the list as it ends (postPaths). */
    for (size_t i = 0, n = j->array_size(list); i < n && rc == 0; i++) {
        rdapsync_value *v = j->array_get(list, i - removed);
        rx_mark m = rx_push_index(x, i - removed, i);
        bool changed;
        if (j->type(v) != RDAPSYNC_JSON_STRING) {
            rc = rx_fail(x, "expected a string, got %s", rj_type_name(j->type(v)));
        } else {
            uri_choice choice = rx_uri_rule(x, j->string_value(v), j->string_length(v), s);
            *held = *held || choice.personal;
            if (choice.rule && choice.rule->method == RM_REMOVAL) {
                rc = rx_entry(x, s, choice.field, NULL, choice.rule, RM_REMOVAL);
                if (rc == 0 && j->array_remove(list, i - removed) != 0)
                    rc = rx_oom(x);
                removed++;
            } else {
                rc = rx_redact_uri_at(x, list, i - removed, &choice, s, &changed);
            }
        }
        rx_pop(x, m);
    }
    rx_pop(x, mark);
    if (rc == 0 && j->array_size(list) == 0)
        j->object_del(contact, "contact_uris");
    return rc;
}

static int address(rx *x, rdapsync_value *addr, const subject *s, bool *held)
{
    static const struct {
        const char *key;
        rfield field;
    } parts[] = {{"po_box", RF_PO_BOX},         {"locality", RF_LOCALITY},    {"region", RF_REGION},
                 {"postal_code", RF_POSTAL_CODE}, {"country_code", RF_COUNTRY}, {"country_name", RF_COUNTRY},
                 {"label", RF_LABEL}};
    const rdapsync_json_api *j = x->j;

    if (j->type(addr) != RDAPSYNC_JSON_OBJECT)
        return rx_fail(x, "expected an address object, got %s", rj_type_name(j->type(addr)));
    *held = *held || has_text(j, j->object_get(addr, "po_box")) || has_text(j, j->object_get(addr, "postal_code")) ||
            has_text(j, j->object_get(addr, "label"));
    if (string_list(x, addr, "street", s, RF_STREET, policy_rule_for(x->pol, RF_STREET, s), held) != 0)
        return -1;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (string_member(x, addr, parts[i].key, s, parts[i].field, policy_rule_for(x->pol, parts[i].field, s), NULL) != 0)
            return -1;
    return 0;
}

static int addresses(rx *x, rdapsync_value *contact, const subject *s, bool *held)
{
    const rdapsync_json_api *j = x->j;
    rdapsync_value *list;
    rx_mark mark;
    int rc = 0;

    if (array_member(x, contact, "addresses", &list) != 0)
        return -1;
    if (!list)
        return 0;
    mark = rx_push_key(x, "addresses");
    for (size_t i = 0, n = j->array_size(list); i < n && rc == 0; i++) {
        rx_mark m = rx_push_index(x, i, i);
        rc = address(x, j->array_get(list, i), s, held);
        rx_pop(x, m);
    }
    rx_pop(x, mark);
    return rc;
}

/* alt_names: [{value, language}]. */
static int alt_names(rx *x, rdapsync_value *contact, const subject *s, const rrule *rule)
{
    const rdapsync_json_api *j = x->j;
    rdapsync_value *list;
    rx_mark mark;
    bool any = false;
    int rc = 0;

    if (array_member(x, contact, "alt_names", &list) != 0)
        return -1;
    if (!list || !rule)
        return 0;
    if (rule->method == RM_REMOVAL)
        return remove_member(x, contact, "alt_names", s, RF_NAME, rule);
    mark = rx_push_key(x, "alt_names");
    x->quiet++;
    for (size_t i = 0, n = j->array_size(list); i < n && rc == 0; i++) {
        rdapsync_value *alt = j->array_get(list, i);
        rx_mark m = rx_push_index(x, i, i);
        bool ch = false;
        if (j->type(alt) != RDAPSYNC_JSON_OBJECT)
            rc = rx_fail(x, "expected an object, got %s", rj_type_name(j->type(alt)));
        else
            rc = string_member(x, alt, "value", s, RF_NAME, rule, &ch);
        any = any || ch;
        rx_pop(x, m);
    }
    x->quiet--;
    if (rc == 0 && any)
        rc = rx_list_entry(x, s, RF_NAME, NULL, rule, "[*].value");
    rx_pop(x, mark);
    return rc;
}

/* One contact at the current path (its whole-contact rule is the caller's business). */
static int redact_contact(rx *x, rdapsync_value *contact, const subject *s)
{
    const rdapsync_json_api *j = x->j;
    const policy *p = x->pol;
    const rrule *rule;
    bool held = false;

    if (j->type(contact) != RDAPSYNC_JSON_OBJECT)
        return rx_fail(x, "expected a contact object, got %s", rj_type_name(j->type(contact)));
    rule = policy_rule_for(p, RF_NAME, s);
    if (s->kind == KIND_INDIVIDUAL && has_text(j, j->object_get(contact, "name")))
        held = true;
    if (string_member(x, contact, "name", s, RF_NAME, rule, NULL) != 0 || alt_names(x, contact, s, rule) != 0)
        return -1;
    rule = policy_rule_for(p, RF_ORGANIZATION, s);
    if (string_member(x, contact, "organization", s, RF_ORGANIZATION, rule, NULL) != 0 ||
        string_list(x, contact, "organization_units", s, RF_ORGANIZATION, rule, NULL) != 0)
        return -1;
    if (string_list(x, contact, "emails", s, RF_EMAIL, policy_rule_for(p, RF_EMAIL, s), &held) != 0 ||
        phone_list(x, contact, "phones", s, RF_PHONE, &held) != 0 ||
        phone_list(x, contact, "faxes", s, RF_FAX, &held) != 0 || uri_list(x, contact, s, &held) != 0 ||
        string_list(x, contact, "urls", s, RF_URL, policy_rule_for(p, RF_URL, s), NULL) != 0 ||
        addresses(x, contact, s, &held) != 0 ||
        string_member(x, contact, "handle", s, RF_HANDLE, policy_rule_for(p, RF_HANDLE, s), NULL) != 0)
        return -1;
    if (held)
        rx_classify(x, s);
    return 0;
}

/* Whether a contact about to be removed whole held classifying data (read leniently). */
static bool contact_held_data(const rdapsync_json_api *j, rdapsync_value *contact, const subject *s)
{
    static const char *const lists[] = {"emails", "contact_uris"};
    static const char *const phones[] = {"phones", "faxes"};
    rdapsync_value *addrs = j->object_get(contact, "addresses");

    if (s->kind == KIND_INDIVIDUAL && has_text(j, j->object_get(contact, "name")))
        return true;
    for (size_t k = 0; k < 2; k++) {
        rdapsync_value *list = j->object_get(contact, lists[k]), *ph = j->object_get(contact, phones[k]);
        for (size_t i = 0, n = j->array_size(list); i < n; i++)
            if (has_text(j, j->array_get(list, i)))
                return true;
        for (size_t i = 0, n = j->array_size(ph); i < n; i++)
            if (has_text(j, j->object_get(j->array_get(ph, i), "number")))
                return true;
    }
    for (size_t i = 0, n = j->array_size(addrs); i < n; i++) {
        rdapsync_value *a = j->array_get(addrs, i);
        if (j->array_size(j->object_get(a, "street")) || has_text(j, j->object_get(a, "po_box")) ||
            has_text(j, j->object_get(a, "postal_code")) || has_text(j, j->object_get(a, "label")))
            return true;
    }
    return false;
}

/* The whole-contact rule of the contact at the current path, recorded and
 * classified when there is one (*removed). Decided before its fields are
 * touched, so that no entry points into a contact that is gone. */
static int maybe_remove(rx *x, rdapsync_value *contact, const subject *s, bool *removed)
{
    const rrule *whole = policy_rule_for(x->pol, RF_ENTITY, s);

    *removed = false;
    if (!whole || x->j->type(contact) != RDAPSYNC_JSON_OBJECT)
        return 0;
    *removed = true;
    if (contact_held_data(x->j, contact, s))
        rx_classify(x, s);
    return rx_entry(x, s, RF_ENTITY, NULL, whole, RM_REMOVAL);
}

/* An array of contacts: removals first decided, then taken out from the end. */
static int contact_list(rx *x, rdapsync_value *list)
{
    const rdapsync_json_api *j = x->j;
    size_t removed_count = 0, *removed;
    int rc = 0;

    if (j->type(list) != RDAPSYNC_JSON_ARRAY)
        return rx_fail(x, "expected an array of contacts, got %s", rj_type_name(j->type(list)));
    /* A contact list is short; only a hostile one needs the heap. */
    size_t few[16];
    removed = j->array_size(list) < sizeof few / sizeof few[0] ? few
                                                                : calloc(j->array_size(list) + 1, sizeof *removed);
    if (!removed)
        return rx_oom(x);
    for (size_t i = 0, n = j->array_size(list); i < n && rc == 0; i++) {
        rdapsync_value *contact = j->array_get(list, i);
        subject s;
        bool remove;
        rx_mark m = rx_push_index(x, i - removed_count, i);
        unified_subject(x, contact, &s);
        rc = maybe_remove(x, contact, &s, &remove);
        rx_pop(x, m);
        if (rc != 0)
            break;
        if (remove) {
            removed[removed_count++] = i;
            continue;
        }
        m = rx_push_index(x, i - removed_count, i);
        rc = redact_contact(x, contact, &s);
        rx_pop(x, m);
    }
    for (size_t r = removed_count; rc == 0 && r > 0; r--)
        if (j->array_remove(list, removed[r - 1]) != 0)
            rc = rx_oom(x);
    if (removed != few)
        free(removed);
    return rc;
}

static int registrar(rx *x, rdapsync_value *doc)
{
    const rdapsync_json_api *j = x->j;
    rdapsync_value *reg = j->object_get(doc, "registrar"), *abuse;
    rx_mark mark;
    subject s;
    bool remove;
    int rc;

    if (!reg)
        return 0;
    mark = rx_push_key(x, "registrar");
    unified_subject(x, reg, &s);
    rc = maybe_remove(x, reg, &s, &remove);
    if (rc == 0 && remove) {
        rx_pop(x, mark);
        j->object_del(doc, "registrar");
        return 0;
    }
    if (rc == 0)
        rc = redact_contact(x, reg, &s);
    abuse = j->object_get(reg, "abuse");
    if (rc == 0 && abuse) {
        rx_mark m = rx_push_key(x, "abuse");
        rc = contact_list(x, abuse);
        rx_pop(x, m);
    }
    rx_pop(x, mark);
    return rc;
}

static int contacts(rx *x, rdapsync_value *doc)
{
    const rdapsync_json_api *j = x->j;
    rdapsync_value *all = j->object_get(doc, "contacts");
    rx_mark mark;
    int rc = 0;

    if (!all)
        return 0;
    mark = rx_push_key(x, "contacts");
    if (j->type(all) != RDAPSYNC_JSON_OBJECT) {
        rc = rx_fail(x, "expected an object of roles, got %s", rj_type_name(j->type(all)));
        rx_pop(x, mark);
        return rc;
    }
    for (rdapsync_value_iter *it = j->object_iter(all); it && rc == 0; it = j->object_iter_next(all, it)) {
        rx_mark m = rx_push_key(x, j->object_iter_key(it));
        rc = contact_list(x, j->object_iter_value(it));
        rx_pop(x, m);
    }
    rx_pop(x, mark);
    return rc;
}

int redact_unified(rx *x, rdapsync_value *doc)
{
    const rdapsync_json_api *j = x->j;
    rdapsync_value *entity = j->object_get(doc, "entity");

    x->result.unified = true;
    if (registrar(x, doc) != 0 || contacts(x, doc) != 0)
        return -1;
    if (entity) {
        rx_mark mark = rx_push_key(x, "entity");
        subject s;
        unified_subject(x, entity, &s);
        if (policy_rule_for(x->pol, RF_ENTITY, &s))
            return rx_fail(x, "the policy removes this contact, which is the whole document");
        if (redact_contact(x, entity, &s) != 0)
            return -1;
        rx_pop(x, mark);
    }
    /* Everything else as raw RDAP: the kept original under "raw" (an RDAP
     * root of its own), and any jCard a document that only claims to be
     * unified might carry elsewhere. */
    if (redact_raw_members(x, doc) != 0)
        return -1;
    return rx_attach(x, doc, false);
}
