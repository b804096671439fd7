/*
 * Entities -> contacts: one contact object per RDAP entity, read from its
 * jCard (RFC 7095, RFC 6350, RDAP's RFC 8605 additions), filed by role.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jcard.h"
#include "nz.h"
#include "rdapjson.h"
#include "tokens.h"

/* Members of a contact, collected in any property order, attached in one order. */
typedef struct parts {
    rdapsync_value *kind, *name, *alt_names, *organization, *organization_units, *emails, *phones, *faxes,
        *contact_uris, *addresses, *urls;
} parts;

static void parts_release(const rdapsync_json_api *j, parts *p)
{
    rdapsync_value **all[] = {&p->kind,    &p->name,   &p->alt_names,    &p->organization,
                              &p->organization_units,  &p->emails,       &p->phones,
                              &p->faxes,   &p->contact_uris,             &p->addresses, &p->urls};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        j->decref(*all[i]);
        *all[i] = NULL;
    }
}

/* Moves every collected member into contact, in the documented order. */
static int parts_attach(nz *z, parts *p, rdapsync_value *contact)
{
    const rdapsync_json_api *j = z->j;
    struct {
        const char *key;
        rdapsync_value **v;
    } order[] = {{"kind", &p->kind},
                 {"name", &p->name},
                 {"alt_names", &p->alt_names},
                 {"organization", &p->organization},
                 {"organization_units", &p->organization_units},
                 {"emails", &p->emails},
                 {"phones", &p->phones},
                 {"faxes", &p->faxes},
                 {"contact_uris", &p->contact_uris},
                 {"addresses", &p->addresses},
                 {"urls", &p->urls}};
    int rc = 0;

    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        rdapsync_value *v = *order[i].v;
        *order[i].v = NULL;
        if (v && rc == 0 && j->object_set(contact, order[i].key, v) != 0)
            rc = nz_oom(z);
        else if (v && rc != 0)
            j->decref(v);
    }
    return rc;
}

/* Value k (0-based, counted from element [3]) of a property, which must be a string. */
static rdapsync_value *prop_string(nz *z, const jcard_prop *p, size_t k)
{
    rdapsync_value *v = z->j->array_get(p->prop, 3 + k);

    if (z->j->type(v) != RDAPSYNC_JSON_STRING) {
        size_t mark = jpath_push_index(&z->path, 3 + k);
        nz_fail(z, "expected a string value, got %s", rj_type_name(z->j->type(v)));
        jpath_pop(&z->path, mark);
        return NULL;
    }
    return v;
}

/* Every non-empty string value of the property appended to *array. */
static int add_strings(nz *z, const jcard_prop *p, rdapsync_value **array)
{
    for (size_t k = 0; k < p->value_count; k++) {
        rdapsync_value *v = prop_string(z, p, k);
        if (!v)
            return -1;
        if (z->j->string_length(v) == 0)
            continue;
        if (nz_append(z, array, z->j->incref(v)) != 0)
            return -1;
    }
    return 0;
}

static const char *kind_form(const char *kind)
{
    if (strcasecmp(kind, "individual") == 0)
        return "individual";
    if (strcasecmp(kind, "org") == 0 || strcasecmp(kind, "group") == 0)
        return "org";
    if (strcasecmp(kind, "location") == 0)
        return "location";
    return NULL;
}

static int on_kind(nz *z, const jcard_prop *p, parts *out)
{
    rdapsync_value *v = prop_string(z, p, 0);
    const char *form;

    if (!v)
        return -1;
    if (out->kind || z->j->string_length(v) == 0)
        return 0;
    form = kind_form(z->j->string_value(v));
    out->kind = form ? z->j->string_new(form, strlen(form))
                     : nz_token(z, z->j->string_value(v), z->j->string_length(v), TOKEN_PLAIN);
    return out->kind ? 0 : nz_oom(z);
}

/* The first non-empty fn is the name; further ones (other scripts, altid) are alt_names. */
static int on_fn(nz *z, const jcard_prop *p, parts *out)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *v = prop_string(z, p, 0);
    rdapsync_value *alt;
    const char *language;

    if (!v)
        return -1;
    if (j->string_length(v) == 0)
        return 0;
    if (!out->name) {
        out->name = j->incref(v);
        return 0;
    }
    alt = j->object_new();
    if (!alt || rj_set_ref(j, alt, "value", v) != 0)
        goto oom;
    language = rj_string_member(j, p->params, "language");
    if (language && rj_set_ref(j, alt, "language", j->object_get(p->params, "language")) != 0)
        goto oom;
    return nz_append(z, &out->alt_names, alt);
oom:
    j->decref(alt);
    return nz_oom(z);
}

/* org is text or structured (organization name, then units). */
static int on_org(nz *z, const jcard_prop *p, parts *out)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *v = p->value;
    size_t mark = jpath_push_index(&z->path, 3);
    int rc = 0;

    if (out->organization)
        goto done;
    if (j->type(v) == RDAPSYNC_JSON_STRING) {
        if (j->string_length(v) > 0)
            out->organization = j->incref(v);
        goto done;
    }
    if (j->type(v) != RDAPSYNC_JSON_ARRAY) {
        rc = nz_fail(z, "expected a string or an array, got %s", rj_type_name(j->type(v)));
        goto done;
    }
    for (size_t i = 0, n = j->array_size(v); i < n && rc == 0; i++) {
        rdapsync_value *unit = j->array_get(v, i);
        if (j->type(unit) != RDAPSYNC_JSON_STRING) {
            jpath_push_index(&z->path, i);
            rc = nz_fail(z, "expected a string, got %s", rj_type_name(j->type(unit)));
            break;
        }
        if (j->string_length(unit) == 0)
            continue;
        if (!out->organization)
            out->organization = j->incref(unit);
        else
            rc = nz_append(z, &out->organization_units, j->incref(unit));
    }
done:
    jpath_pop(&z->path, mark);
    return rc;
}

/* The type parameter as a list of tokens (types: ["work", "voice"]), or NULL. */
static int types_of(nz *z, const rdapsync_value *params, rdapsync_value **out)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *t = j->object_get(params, "type");
    size_t n, mark;

    *out = NULL;
    if (!t || j->type(t) == RDAPSYNC_JSON_NULL)
        return 0;
    mark = jpath_push_index(&z->path, 1);
    jpath_push_key(&z->path, "type");
    if (j->type(t) == RDAPSYNC_JSON_STRING) {
        /* "voice,fax" and "voice" alike. */
        const char *s = j->string_value(t);
        size_t len = j->string_length(t);
        size_t start = 0;
        for (size_t i = 0; i <= len; i++) {
            if (i < len && s[i] != ',')
                continue;
            if (i > start) {
                rdapsync_value *tok = nz_token(z, s + start, i - start, TOKEN_PLAIN);
                if (!tok || nz_append(z, out, tok) != 0)
                    goto fail;
            }
            start = i + 1;
        }
    } else if (j->type(t) == RDAPSYNC_JSON_ARRAY) {
        n = j->array_size(t);
        for (size_t i = 0; i < n; i++) {
            rdapsync_value *item = j->array_get(t, i);
            if (j->type(item) != RDAPSYNC_JSON_STRING) {
                jpath_push_index(&z->path, i);
                nz_fail(z, "expected a string, got %s", rj_type_name(j->type(item)));
                goto fail;
            }
            rdapsync_value *tok = nz_token(z, j->string_value(item), j->string_length(item), TOKEN_PLAIN);
            if (!tok || nz_append(z, out, tok) != 0)
                goto fail;
        }
    } else {
        nz_fail(z, "expected a string or an array, got %s", rj_type_name(j->type(t)));
        goto fail;
    }
    jpath_pop(&z->path, mark);
    return 0;
fail:
    if (z->err && z->err[0] == '\0')
        nz_oom(z);
    jpath_pop(&z->path, mark);
    j->decref(*out);
    *out = NULL;
    return -1;
}

/*
 * One telephone value: "tel:+1.5555550142;ext=12" (uri) gives number
 * "+1.5555550142" and ext "12"; free text ("(555) 555-0179") is kept as the
 * number, with a ";ext=" suffix split off the same way.
 */
static rdapsync_value *phone_object(nz *z, rdapsync_value *v, rdapsync_value *types)
{
    const rdapsync_json_api *j = z->j;
    const char *s = j->string_value(v);
    size_t len = j->string_length(v);
    size_t start = 0, end, ext_at = 0, ext_len = 0;
    rdapsync_value *phone = j->object_new();

    if (!phone)
        return NULL;
    if (len >= 4 && strncasecmp(s, "tel:", 4) == 0)
        start = 4;
    while (start < len && (s[start] == ' ' || s[start] == '\t'))
        start++;
    end = start;
    while (end < len && s[end] != ';')
        end++;
    /* URI parameters after the number: only ext is kept. */
    for (size_t i = end; i < len;) {
        size_t p = i + 1, q = p;
        while (q < len && s[q] != ';')
            q++;
        if (q - p > 4 && strncasecmp(s + p, "ext=", 4) == 0) {
            ext_at = p + 4;
            ext_len = q - ext_at;
        }
        i = q;
    }
    while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
        end--;
    if (start == 0 && end == len) {
        if (rj_set_ref(j, phone, "number", v) != 0)
            goto fail;
    } else if (rj_set_string(j, phone, "number", s + start, end - start) != 0) {
        goto fail;
    }
    if (ext_len && rj_set_string(j, phone, "ext", s + ext_at, ext_len) != 0)
        goto fail;
    if (types && rj_set_ref(j, phone, "types", types) != 0)
        goto fail;
    return phone;
fail:
    j->decref(phone);
    return NULL;
}

static int on_tel(nz *z, const jcard_prop *p, parts *out)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *types = NULL;
    bool fax = jcard_has_type(j, p->params, "fax");
    int rc = 0;

    if (types_of(z, p->params, &types) != 0)
        return -1;
    for (size_t k = 0; k < p->value_count && rc == 0; k++) {
        rdapsync_value *v = prop_string(z, p, k);
        rdapsync_value *phone;
        if (!v) {
            rc = -1;
            break;
        }
        if (j->string_length(v) == 0)
            continue;
        phone = phone_object(z, v, types);
        if (!phone)
            rc = nz_oom(z);
        else
            rc = nz_append(z, fax ? &out->faxes : &out->phones, phone);
    }
    j->decref(types);
    return rc;
}

/* An adr component (string, or array of strings) as text lines appended to *lines. */
static int component_lines(nz *z, rdapsync_value *comp, rdapsync_value **lines)
{
    const rdapsync_json_api *j = z->j;

    if (j->type(comp) == RDAPSYNC_JSON_STRING)
        return j->string_length(comp) ? nz_append(z, lines, j->incref(comp)) : 0;
    if (j->type(comp) != RDAPSYNC_JSON_ARRAY)
        return nz_fail(z, "expected a string or an array of strings, got %s", rj_type_name(j->type(comp)));
    for (size_t i = 0, n = j->array_size(comp); i < n; i++) {
        rdapsync_value *line = j->array_get(comp, i);
        if (j->type(line) != RDAPSYNC_JSON_STRING) {
            size_t mark = jpath_push_index(&z->path, i);
            nz_fail(z, "expected a string, got %s", rj_type_name(j->type(line)));
            jpath_pop(&z->path, mark);
            return -1;
        }
        if (j->string_length(line) && nz_append(z, lines, j->incref(line)) != 0)
            return -1;
    }
    return 0;
}

/* A single-valued component: a string is shared, an array is joined with ", ". */
static int component_text(nz *z, rdapsync_value *comp, rdapsync_value *addr, const char *key)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *lines = NULL;
    size_t total = 0, n, at = 0;
    char *buf;
    int rc;

    if (j->type(comp) == RDAPSYNC_JSON_STRING) {
        if (j->string_length(comp) == 0)
            return 0;
        return rj_set_ref(j, addr, key, comp) == 0 ? 0 : nz_oom(z);
    }
    if (component_lines(z, comp, &lines) != 0) {
        j->decref(lines); /* the lines before the bad one */
        return -1;
    }
    n = j->array_size(lines);
    if (n == 0) {
        j->decref(lines);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        total += j->string_length(j->array_get(lines, i)) + 2;
    buf = malloc(total + 1);
    if (!buf) {
        j->decref(lines);
        return nz_oom(z);
    }
    for (size_t i = 0; i < n; i++) {
        rdapsync_value *line = j->array_get(lines, i);
        if (i) {
            memcpy(buf + at, ", ", 2);
            at += 2;
        }
        memcpy(buf + at, j->string_value(line), j->string_length(line));
        at += j->string_length(line);
    }
    rc = rj_set_string(j, addr, key, buf, at) == 0 ? 0 : nz_oom(z);
    free(buf);
    j->decref(lines);
    return rc;
}

static bool is_alpha2(const char *s, size_t len)
{
    return len == 2 && ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') && ((s[1] | 0x20) >= 'a' && (s[1] | 0x20) <= 'z');
}

static rdapsync_value *upper2(const rdapsync_json_api *j, const char *s)
{
    char cc[2] = {(char)(s[0] & ~0x20), (char)(s[1] & ~0x20)};
    return j->string_new(cc, 2);
}

/* A string parameter of the property, or NULL; another type is an error (*rc = -1). */
static rdapsync_value *string_param(nz *z, const jcard_prop *p, const char *name, int *rc)
{
    rdapsync_value *v = z->j->object_get(p->params, name);

    if (!v || z->j->type(v) == RDAPSYNC_JSON_NULL)
        return NULL;
    if (z->j->type(v) != RDAPSYNC_JSON_STRING) {
        size_t mark = jpath_push_index(&z->path, 1);
        jpath_push_key(&z->path, name);
        *rc = nz_fail(z, "expected a string, got %s", rj_type_name(z->j->type(v)));
        jpath_pop(&z->path, mark);
        return NULL;
    }
    return v;
}

/*
 * adr: [PO box, extended, street, locality, region, postal code, country
 * name], any part a string or an array; `label` holds the formatted address
 * and `cc` the ISO 3166 code (RFC 8605). Extended and street parts become the
 * street lines.
 */
static int on_adr(nz *z, const jcard_prop *p, parts *out)
{
    static const char *const keys[] = {"po_box", NULL, NULL, "locality", "region", "postal_code", "country_name"};
    const rdapsync_json_api *j = z->j;
    rdapsync_value *addr = j->object_new();
    rdapsync_value *types = NULL, *street = NULL, *label, *cc;
    int rc = 0;
    size_t mark;

    if (!addr)
        return nz_oom(z);
    label = string_param(z, p, "label", &rc);
    cc = string_param(z, p, "cc", &rc);
    if (rc != 0 || types_of(z, p->params, &types) != 0)
        goto fail;
    if (types && j->object_set(addr, "types", types) != 0)
        goto oom;
    mark = jpath_push_index(&z->path, 3);
    if (j->type(p->value) == RDAPSYNC_JSON_STRING) {
        /* Some servers send the whole address as one text: keep it as the label. */
        if (!label && j->string_length(p->value))
            label = p->value;
    } else if (j->type(p->value) == RDAPSYNC_JSON_ARRAY) {
        size_t n = j->array_size(p->value);
        for (size_t k = 0; k < n && k < 7; k++) {
            rdapsync_value *comp = j->array_get(p->value, k);
            size_t m = jpath_push_index(&z->path, k);
            if (k == 1 || k == 2)
                rc = component_lines(z, comp, &street);
            else
                rc = component_text(z, comp, addr, keys[k]);
            jpath_pop(&z->path, m);
            if (rc != 0)
                break;
            if (k == 2 && street) {
                rc = j->object_set(addr, "street", street) == 0 ? 0 : nz_oom(z);
                street = NULL;
                if (rc != 0)
                    break;
            }
        }
        if (rc == 0 && street) {
            rc = j->object_set(addr, "street", street) == 0 ? 0 : nz_oom(z);
            street = NULL;
        }
    } else {
        rc = nz_fail(z, "expected an array of address parts, got %s", rj_type_name(j->type(p->value)));
    }
    jpath_pop(&z->path, mark);
    if (rc != 0)
        goto fail;
    if (cc && j->string_length(cc) && is_alpha2(j->string_value(cc), j->string_length(cc))) {
        if (j->object_set(addr, "country_code", upper2(j, j->string_value(cc))) != 0)
            goto oom;
    } else {
        const char *name = rj_string_member(j, addr, "country_name");
        if (name && is_alpha2(name, strlen(name)) && j->object_set(addr, "country_code", upper2(j, name)) != 0)
            goto oom;
    }
    if (label && j->string_length(label) && rj_set_ref(j, addr, "label", label) != 0)
        goto oom;
    if (j->object_size(addr) == 0 || (j->object_size(addr) == 1 && j->object_get(addr, "types"))) {
        j->decref(addr);
        return 0;
    }
    return nz_append(z, &out->addresses, addr);
oom:
    nz_oom(z);
fail:
    j->decref(street);
    j->decref(addr);
    return -1;
}

static int on_property(nz *z, const jcard_prop *p, parts *out)
{
    const char *name = p->name;

    if (strcasecmp(name, "fn") == 0)
        return on_fn(z, p, out);
    if (strcasecmp(name, "kind") == 0)
        return on_kind(z, p, out);
    if (strcasecmp(name, "org") == 0)
        return on_org(z, p, out);
    if (strcasecmp(name, "email") == 0)
        return add_strings(z, p, &out->emails);
    if (strcasecmp(name, "tel") == 0)
        return on_tel(z, p, out);
    if (strcasecmp(name, "adr") == 0)
        return on_adr(z, p, out);
    if (strcasecmp(name, "contact-uri") == 0)
        return add_strings(z, p, &out->contact_uris);
    if (strcasecmp(name, "url") == 0)
        return add_strings(z, p, &out->urls);
    return 0; /* version, n, lang, title, note, geo, ...: not in the unified shape */
}

static int read_vcard(nz *z, rdapsync_value *vcard, parts *out)
{
    size_t mark = jpath_push_key(&z->path, "vcardArray");
    rdapsync_value *list = jcard_list(z->j, vcard, &z->path, z->err, z->err_size);
    int rc = 0;

    if (!list) {
        jpath_pop(&z->path, mark);
        return -1;
    }
    jpath_push_index(&z->path, 1);
    for (size_t i = 0, n = z->j->array_size(list); i < n && rc == 0; i++) {
        jcard_prop p;
        rc = jcard_prop_read(z->j, list, i, &p, &z->path, z->err, z->err_size);
        if (rc != 0)
            break;
        size_t m = jpath_push_index(&z->path, i);
        rc = on_property(z, &p, out);
        jpath_pop(&z->path, m);
    }
    jpath_pop(&z->path, mark);
    return rc;
}

/* roles: an array of strings, as tokens. */
static int read_roles(nz *z, rdapsync_value *entity, rdapsync_value **out)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *roles;
    size_t mark;

    *out = NULL;
    if (nz_member(z, entity, "roles", RDAPSYNC_JSON_ARRAY, &roles) != 0)
        return -1;
    if (!roles)
        return 0;
    mark = jpath_push_key(&z->path, "roles");
    for (size_t i = 0, n = j->array_size(roles); i < n; i++) {
        rdapsync_value *role = j->array_get(roles, i);
        if (j->type(role) != RDAPSYNC_JSON_STRING) {
            jpath_push_index(&z->path, i);
            nz_fail(z, "expected a string, got %s", rj_type_name(j->type(role)));
            goto fail;
        }
        rdapsync_value *tok = nz_token(z, j->string_value(role), j->string_length(role), TOKEN_PLAIN);
        if (!tok || nz_append(z, out, tok) != 0)
            goto fail;
    }
    jpath_pop(&z->path, mark);
    if (!*out)
        *out = j->array_new();
    return *out ? 0 : nz_oom(z);
fail:
    if (z->err && z->err[0] == '\0')
        nz_oom(z);
    jpath_pop(&z->path, mark);
    j->decref(*out);
    *out = NULL;
    return -1;
}

rdapsync_value *nz_contact(nz *z, rdapsync_value *entity)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *contact = NULL, *handle, *roles = NULL, *vcard;
    parts p = {0};

    if (j->type(entity) != RDAPSYNC_JSON_OBJECT) {
        nz_fail(z, "expected an entity object, got %s", rj_type_name(j->type(entity)));
        return NULL;
    }
    if (nz_member(z, entity, "handle", RDAPSYNC_JSON_STRING, &handle) != 0 || read_roles(z, entity, &roles) != 0)
        goto fail;
    if (j->object_get(entity, "vcardArray") && j->type(j->object_get(entity, "vcardArray")) != RDAPSYNC_JSON_NULL) {
        vcard = j->object_get(entity, "vcardArray");
        if (read_vcard(z, vcard, &p) != 0)
            goto fail;
    }
    contact = j->object_new();
    if (!contact)
        goto oom;
    if (handle && j->string_length(handle) && rj_set_ref(j, contact, "handle", handle) != 0)
        goto oom;
    if (roles && j->object_set(contact, "roles", roles) != 0) {
        roles = NULL;
        goto oom;
    }
    roles = NULL;
    if (parts_attach(z, &p, contact) != 0)
        goto fail;
    return contact;
oom:
    nz_oom(z);
fail:
    parts_release(j, &p);
    j->decref(roles);
    j->decref(contact);
    return NULL;
}

/* IANA Registrar ID from publicIds, as a string; NULL when absent. */
static int iana_id(nz *z, rdapsync_value *entity, rdapsync_value *registrar)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *ids;
    size_t mark;
    int rc = 0;

    if (nz_member(z, entity, "publicIds", RDAPSYNC_JSON_ARRAY, &ids) != 0)
        return -1;
    if (!ids)
        return 0;
    mark = jpath_push_key(&z->path, "publicIds");
    for (size_t i = 0, n = j->array_size(ids); i < n; i++) {
        rdapsync_value *id = j->array_get(ids, i), *type, *ident;
        size_t m = jpath_push_index(&z->path, i);
        if (j->type(id) != RDAPSYNC_JSON_OBJECT) {
            rc = nz_fail(z, "expected an object, got %s", rj_type_name(j->type(id)));
            break;
        }
        if (nz_member(z, id, "type", RDAPSYNC_JSON_STRING, &type) != 0) {
            rc = -1;
            break;
        }
        ident = j->object_get(id, "identifier");
        jpath_pop(&z->path, m);
        if (!type || strcasecmp(j->string_value(type), "IANA Registrar ID") != 0)
            continue;
        if (j->type(ident) == RDAPSYNC_JSON_STRING) {
            rc = rj_set_ref(j, registrar, "iana_id", ident) == 0 ? 0 : nz_oom(z);
        } else if (j->type(ident) == RDAPSYNC_JSON_INTEGER) {
            char num[32];
            int len = snprintf(num, sizeof num, "%lld", (long long)j->integer_value(ident));
            rc = rj_set_string(j, registrar, "iana_id", num, (size_t)len) == 0 ? 0 : nz_oom(z);
        } else {
            jpath_push_index(&z->path, i);
            jpath_push_key(&z->path, "identifier");
            rc = nz_fail(z, "expected a string, got %s", rj_type_name(j->type(ident)));
        }
        break;
    }
    jpath_pop(&z->path, mark);
    return rc;
}

/* contacts[role] += contact; an entity with several roles is copied into each. */
static int file_by_role(nz *z, rdapsync_value *contact)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *roles = j->object_get(contact, "roles");
    size_t n = j->array_size(roles);

    if (!z->contacts && !(z->contacts = j->object_new()))
        return nz_oom(z);
    for (size_t i = 0; i < (n ? n : 1); i++) {
        const char *role = n ? j->string_value(j->array_get(roles, i)) : "unspecified";
        rdapsync_value *list = j->object_get(z->contacts, role);
        rdapsync_value *item = i == 0 ? j->incref(contact) : j->deep_copy(contact);
        if (!item)
            return nz_oom(z);
        if (!list) {
            list = j->array_new();
            if (!list || j->object_set(z->contacts, role, list) != 0) {
                j->decref(item);
                return nz_oom(z);
            }
        }
        if (j->array_append(list, item) != 0)
            return nz_oom(z);
    }
    return 0;
}

static int file_entity(nz *z, rdapsync_value *entity, bool owner_is_registrar)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *contact = nz_contact(z, entity);
    rdapsync_value *roles;
    bool registrar;
    int rc;

    if (!contact)
        return -1;
    roles = j->object_get(contact, "roles");
    registrar = rj_array_has_string(j, roles, "registrar");
    if (registrar && !z->registrar) {
        if (iana_id(z, entity, contact) != 0) {
            j->decref(contact);
            return -1;
        }
        z->registrar = contact;
        return nz_entities(z, entity, true);
    }
    if (owner_is_registrar && z->registrar && rj_array_has_string(j, roles, "abuse")) {
        rdapsync_value *abuse = j->object_get(z->registrar, "abuse");
        if (!abuse) {
            abuse = j->array_new();
            if (!abuse || j->object_set(z->registrar, "abuse", abuse) != 0) {
                j->decref(contact);
                return nz_oom(z);
            }
        }
        rc = j->array_append(abuse, contact) == 0 ? 0 : nz_oom(z);
    } else {
        rc = file_by_role(z, contact);
        j->decref(contact);
    }
    return rc == 0 ? nz_entities(z, entity, false) : -1;
}

int nz_entities(nz *z, rdapsync_value *owner, bool owner_is_registrar)
{
    const rdapsync_json_api *j = z->j;
    rdapsync_value *entities;
    size_t mark;
    int rc = 0;

    if (nz_member(z, owner, "entities", RDAPSYNC_JSON_ARRAY, &entities) != 0)
        return -1;
    if (!entities)
        return 0;
    mark = jpath_push_key(&z->path, "entities");
    for (size_t i = 0, n = j->array_size(entities); i < n && rc == 0; i++) {
        size_t m = jpath_push_index(&z->path, i);
        rc = file_entity(z, j->array_get(entities, i), owner_is_registrar);
        jpath_pop(&z->path, m);
    }
    jpath_pop(&z->path, mark);
    return rc;
}
