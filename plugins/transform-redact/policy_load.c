/*
 * Policy files (YAML, read with libyaml): finding them by name or path and
 * turning them into a policy. Every error names file:line:column.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "policy.h"

#define F(field) (1u << (field))
#define ADDRESS_FIELDS \
    (F(RF_PO_BOX) | F(RF_STREET) | F(RF_LOCALITY) | F(RF_REGION) | F(RF_POSTAL_CODE) | F(RF_COUNTRY) | F(RF_LABEL))
#define MAX_POLICY_BYTES (1024 * 1024)

/* Field names of the unified shape (and their singular/plural spellings). */
static const struct {
    const char *name;
    uint32_t bits;
} field_names[] = {
    {"name", F(RF_NAME)},           {"organization", F(RF_ORGANIZATION)}, {"email", F(RF_EMAIL)},
    {"emails", F(RF_EMAIL)},        {"phone", F(RF_PHONE)},               {"phones", F(RF_PHONE)},
    {"fax", F(RF_FAX)},             {"faxes", F(RF_FAX)},                 {"contact_uri", F(RF_CONTACT_URI)},
    {"contact_uris", F(RF_CONTACT_URI)}, {"url", F(RF_URL)},              {"urls", F(RF_URL)},
    {"po_box", F(RF_PO_BOX)},       {"street", F(RF_STREET)},             {"locality", F(RF_LOCALITY)},
    {"city", F(RF_LOCALITY)},       {"region", F(RF_REGION)},             {"postal_code", F(RF_POSTAL_CODE)},
    {"country", F(RF_COUNTRY)},     {"country_code", F(RF_COUNTRY)},      {"country_name", F(RF_COUNTRY)},
    {"label", F(RF_LABEL)},         {"address", ADDRESS_FIELDS},          {"addresses", ADDRESS_FIELDS},
    {"handle", F(RF_HANDLE)},       {"entity", F(RF_ENTITY)},
};

/* jCard properties that are fields; any other property name is kept as is. */
static const struct {
    const char *name;
    uint32_t bits;
} property_fields[] = {
    {"fn", F(RF_NAME)},   {"n", F(RF_NAME)},           {"org", F(RF_ORGANIZATION)},
    {"email", F(RF_EMAIL)}, {"tel", F(RF_PHONE) | F(RF_FAX)}, {"contact-uri", F(RF_CONTACT_URI)},
    {"url", F(RF_URL)},   {"adr", ADDRESS_FIELDS},
};

typedef struct loader {
    yaml_document_t doc;
    const char *file;
    char *err;
    size_t err_size;
    policy *p;
} loader;

static int fail_at(loader *l, const yaml_node_t *node, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail_at(loader *l, const yaml_node_t *node, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!l->err || l->err_size == 0)
        return -1;
    n = snprintf(l->err, l->err_size, "%s:%zu:%zu: ", l->file, node ? node->start_mark.line + 1 : 0,
                 node ? node->start_mark.column + 1 : 0);
    if (n < 0 || (size_t)n >= l->err_size)
        return -1;
    va_start(ap, fmt);
    vsnprintf(l->err + n, l->err_size - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *scalar(const yaml_node_t *node)
{
    return node && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

static yaml_node_t *node_at(loader *l, int index)
{
    return yaml_document_get_node(&l->doc, index);
}

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

static int set_add(loader *l, const yaml_node_t *at, string_set *set, const char *s, bool upper)
{
    char **items = realloc(set->items, (set->count + 1) * sizeof *items);
    char *copy;

    if (!items)
        return fail_at(l, at, "out of memory");
    set->items = items;
    copy = dup_string(s);
    if (!copy)
        return fail_at(l, at, "out of memory");
    if (upper)
        for (char *c = copy; *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
    set->items[set->count++] = copy;
    return 0;
}

/* A scalar or a sequence of scalars. */
static int read_list(loader *l, const yaml_node_t *node, string_set *set, bool upper)
{
    const char *s = scalar(node);

    if (s)
        return set_add(l, node, set, s, upper);
    if (!node || node->type != YAML_SEQUENCE_NODE)
        return fail_at(l, node, "expected a name or a list of names");
    for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
        yaml_node_t *item = node_at(l, *it);
        if (!scalar(item))
            return fail_at(l, item, "expected a name");
        if (set_add(l, item, set, scalar(item), upper) != 0)
            return -1;
    }
    return 0;
}

static int read_int(loader *l, const yaml_node_t *node, int64_t min, int64_t max, int64_t *out)
{
    const char *s = scalar(node);
    char *end;
    long long v;

    if (!s || !*s)
        return fail_at(l, node, "expected a whole number");
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return fail_at(l, node, "expected a whole number from %lld to %lld", (long long)min, (long long)max);
    *out = v;
    return 0;
}

static int read_string(loader *l, const yaml_node_t *node, char **out)
{
    const char *s = scalar(node);

    if (!s)
        return fail_at(l, node, "expected text");
    free(*out);
    *out = dup_string(s);
    return *out ? 0 : fail_at(l, node, "out of memory");
}

static int read_fields(loader *l, const yaml_node_t *node, rrule *r)
{
    string_set names = {0};
    int rc = read_list(l, node, &names, false);

    for (size_t i = 0; i < names.count && rc == 0; i++) {
        size_t k = 0;
        while (k < sizeof field_names / sizeof field_names[0] && strcmp(field_names[k].name, names.items[i]) != 0)
            k++;
        if (k == sizeof field_names / sizeof field_names[0])
            rc = fail_at(l, node,
                         "unknown field \"%s\" (name, organization, email, phone, fax, contact_uri, url, po_box, "
                         "street, locality, region, postal_code, country, label, address, handle, entity)",
                         names.items[i]);
        else
            r->fields |= field_names[k].bits;
    }
    for (size_t i = 0; i < names.count; i++)
        free(names.items[i]);
    free(names.items);
    return rc;
}

/* jCard property names: the ones that are fields become fields, the others stay names. */
static int read_properties(loader *l, const yaml_node_t *node, rrule *r)
{
    string_set names = {0};
    int rc = read_list(l, node, &names, false);

    for (size_t i = 0; i < names.count && rc == 0; i++) {
        char *name = names.items[i];
        size_t k = 0;
        for (char *c = name; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        while (k < sizeof property_fields / sizeof property_fields[0] && strcmp(property_fields[k].name, name) != 0)
            k++;
        if (k < sizeof property_fields / sizeof property_fields[0]) {
            r->fields |= property_fields[k].bits;
        } else if (strcmp(name, "version") == 0 || strcmp(name, "kind") == 0) {
            rc = fail_at(l, node, "property \"%s\" cannot be redacted (it holds no personal data and jCard needs it)",
                         name);
        } else {
            rc = set_add(l, node, &r->properties, name, false);
        }
    }
    for (size_t i = 0; i < names.count; i++)
        free(names.items[i]);
    free(names.items);
    return rc;
}

static int read_method(loader *l, const yaml_node_t *node, rmethod *out)
{
    static const char *const names[] = {"removal", "emptyValue", "partialValue", "replacementValue"};
    const char *s = scalar(node);

    for (size_t i = 0; s && i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (rmethod)i;
            return 0;
        }
    }
    return fail_at(l, node, "method must be removal, emptyValue, partialValue or replacementValue (RFC 9537)");
}

static int read_kinds(loader *l, const yaml_node_t *node, unsigned *out)
{
    string_set names = {0};
    int rc = read_list(l, node, &names, false);

    for (size_t i = 0; i < names.count && rc == 0; i++) {
        if (strcmp(names.items[i], "individual") == 0)
            *out |= KIND_INDIVIDUAL;
        else if (strcmp(names.items[i], "org") == 0 || strcmp(names.items[i], "organization") == 0)
            *out |= KIND_ORG;
        else
            rc = fail_at(l, node, "kinds are individual and org");
    }
    for (size_t i = 0; i < names.count; i++)
        free(names.items[i]);
    free(names.items);
    return rc;
}

static int read_rule(loader *l, const yaml_node_t *node, rrule *r)
{
    bool has_method = false, has_value = false;

    r->keep = -1;
    r->line = (int)node->start_mark.line + 1;
    if (node->type != YAML_MAPPING_NODE)
        return fail_at(l, node, "a rule is a mapping (fields/properties, method, ...)");
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = node_at(l, pair->key), *v = node_at(l, pair->value);
        const char *key = scalar(k);
        int rc;
        int64_t keep = -1;

        if (!key)
            return fail_at(l, k, "expected a key");
        if (strcmp(key, "fields") == 0 || strcmp(key, "field") == 0)
            rc = read_fields(l, v, r);
        else if (strcmp(key, "properties") == 0 || strcmp(key, "property") == 0)
            rc = read_properties(l, v, r);
        else if (strcmp(key, "method") == 0) {
            rc = read_method(l, v, &r->method);
            has_method = true;
        } else if (strcmp(key, "value") == 0) {
            rc = read_string(l, v, &r->value);
            has_value = true;
        } else if (strcmp(key, "keep") == 0) {
            rc = read_int(l, v, 0, 64, &keep);
            r->keep = (int)keep;
        }
        else if (strcmp(key, "reason") == 0)
            rc = read_string(l, v, &r->reason);
        else if (strcmp(key, "roles") == 0)
            rc = read_list(l, v, &r->roles, false);
        else if (strcmp(key, "except_roles") == 0)
            rc = read_list(l, v, &r->except_roles, false);
        else if (strcmp(key, "kinds") == 0)
            rc = read_kinds(l, v, &r->kinds);
        else if (strcmp(key, "countries") == 0)
            rc = read_list(l, v, &r->countries, true);
        else if (strcmp(key, "regions") == 0)
            rc = read_list(l, v, &r->regions, false);
        else
            rc = fail_at(l, k,
                         "unknown rule key \"%s\" (fields, properties, method, value, keep, reason, roles, "
                         "except_roles, kinds, countries, regions)",
                         key);
        if (rc != 0)
            return -1;
    }
    if (!r->fields && !r->properties.count)
        return fail_at(l, node, "a rule needs fields or properties");
    if (!has_method)
        return fail_at(l, node, "a rule needs a method");
    if (r->method == RM_REPLACEMENT_VALUE && !has_value)
        return fail_at(l, node, "replacementValue needs a value");
    if (r->method != RM_REPLACEMENT_VALUE && has_value)
        return fail_at(l, node, "value is only for replacementValue");
    if (r->method != RM_PARTIAL_VALUE && r->keep >= 0)
        return fail_at(l, node, "keep is only for partialValue");
    if ((r->fields & F(RF_ENTITY)) && (r->method != RM_REMOVAL || r->fields != F(RF_ENTITY) || r->properties.count))
        return fail_at(l, node, "the entity field stands alone in its rule, with method removal");
    return 0;
}

static int read_rules(loader *l, const yaml_node_t *node)
{
    size_t n;

    if (node->type != YAML_SEQUENCE_NODE)
        return fail_at(l, node, "rules is a list");
    n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    l->p->rules = calloc(n ? n : 1, sizeof *l->p->rules);
    if (!l->p->rules)
        return fail_at(l, node, "out of memory");
    for (size_t i = 0; i < n; i++) {
        l->p->rule_count = i + 1;
        if (read_rule(l, node_at(l, node->data.sequence.items.start[i]), &l->p->rules[i]) != 0)
            return -1;
    }
    return 0;
}

static int read_entities(loader *l, const yaml_node_t *node)
{
    if (node->type != YAML_MAPPING_NODE)
        return fail_at(l, node, "entities is a mapping (missing_kind, organization_roles)");
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = node_at(l, pair->key), *v = node_at(l, pair->value);
        const char *key = scalar(k), *s = scalar(v);
        if (key && strcmp(key, "missing_kind") == 0) {
            if (s && strcmp(s, "individual") == 0)
                l->p->missing_kind = KIND_INDIVIDUAL;
            else if (s && (strcmp(s, "org") == 0 || strcmp(s, "organization") == 0))
                l->p->missing_kind = KIND_ORG;
            else
                return fail_at(l, v, "missing_kind is individual or org");
        } else if (key && strcmp(key, "organization_roles") == 0) {
            if (read_list(l, v, &l->p->organization_roles, false) != 0)
                return -1;
        } else {
            return fail_at(l, k, "unknown key in entities (missing_kind, organization_roles)");
        }
    }
    return 0;
}

static int read_classification(loader *l, const yaml_node_t *node)
{
    if (node->type != YAML_MAPPING_NODE)
        return fail_at(l, node, "classification is a mapping (public_roles)");
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = node_at(l, pair->key), *v = node_at(l, pair->value);
        const char *key = scalar(k);
        if (!key || strcmp(key, "public_roles") != 0)
            return fail_at(l, k, "unknown key in classification (public_roles)");
        if (read_list(l, v, &l->p->public_roles, false) != 0)
            return -1;
    }
    return 0;
}

static int read_retention(loader *l, const yaml_node_t *node)
{
    if (node->type != YAML_MAPPING_NODE)
        return fail_at(l, node, "retention_days is a mapping (personal, business-sensitive, public)");
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = node_at(l, pair->key), *v = node_at(l, pair->value);
        const char *key = scalar(k);
        int c = -1;
        for (int i = 0; key && i < CLASS_COUNT; i++)
            if (strcmp(key, rclass_name((rclass)i)) == 0)
                c = i;
        if (c < 0)
            return fail_at(l, k, "retention_days keys are personal, business-sensitive and public");
        if (read_int(l, v, 0, 36500, &l->p->retention_days[c]) != 0)
            return -1;
    }
    return 0;
}

static int read_policy(loader *l, const yaml_node_t *root)
{
    if (!root)
        return fail_at(l, NULL, "empty policy file");
    if (root->type != YAML_MAPPING_NODE)
        return fail_at(l, root, "a policy is a mapping (name, reason, entities, classification, retention_days, rules)");
    for (yaml_node_pair_t *pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = node_at(l, pair->key), *v = node_at(l, pair->value);
        const char *key = scalar(k);
        int rc;
        if (!key)
            return fail_at(l, k, "expected a key");
        if (strcmp(key, "name") == 0)
            rc = read_string(l, v, &l->p->name);
        else if (strcmp(key, "description") == 0)
            rc = scalar(v) ? 0 : fail_at(l, v, "expected text");
        else if (strcmp(key, "reason") == 0)
            rc = read_string(l, v, &l->p->reason);
        else if (strcmp(key, "entities") == 0)
            rc = read_entities(l, v);
        else if (strcmp(key, "classification") == 0)
            rc = read_classification(l, v);
        else if (strcmp(key, "retention_days") == 0)
            rc = read_retention(l, v);
        else if (strcmp(key, "rules") == 0)
            rc = read_rules(l, v);
        else
            rc = fail_at(l, k,
                         "unknown key \"%s\" (name, description, reason, entities, classification, retention_days, "
                         "rules)",
                         key);
        if (rc != 0)
            return -1;
    }
    if (!l->p->rule_count)
        return fail_at(l, root, "a policy needs rules");
    return 0;
}

/* The file name without directories and extension: the default policy name. */
static char *stem(const char *file)
{
    const char *base = strrchr(file, '/');
    const char *dot;
    size_t n;
    char *s;

    base = base ? base + 1 : file;
    dot = strrchr(base, '.');
    n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    s = malloc(n + 1);
    if (s) {
        memcpy(s, base, n);
        s[n] = '\0';
    }
    return s;
}

policy *policy_parse(const char *text, size_t len, const char *file, char *err, size_t err_size)
{
    yaml_parser_t parser;
    loader l = {.file = file, .err = err, .err_size = err_size};
    int rc;

    if (err && err_size)
        err[0] = '\0';
    l.p = calloc(1, sizeof *l.p);
    if (!l.p || !yaml_parser_initialize(&parser)) {
        free(l.p);
        snprintf(err, err_size, "%s: out of memory", file);
        return NULL;
    }
    l.p->missing_kind = KIND_INDIVIDUAL;
    for (int i = 0; i < CLASS_COUNT; i++)
        l.p->retention_days[i] = -1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &l.doc)) {
        snprintf(err, err_size, "%s:%zu:%zu: %s", file, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1, parser.problem ? parser.problem : "invalid YAML");
        yaml_parser_delete(&parser);
        policy_free(l.p);
        return NULL;
    }
    rc = read_policy(&l, yaml_document_get_root_node(&l.doc));
    yaml_document_delete(&l.doc);
    yaml_parser_delete(&parser);
    if (rc == 0 && !l.p->name && !(l.p->name = stem(file))) {
        snprintf(err, err_size, "%s: out of memory", file);
        rc = -1;
    }
    if (rc == 0 && !(l.p->path = dup_string(file))) {
        snprintf(err, err_size, "%s: out of memory", file);
        rc = -1;
    }
    if (rc != 0) {
        policy_free(l.p);
        return NULL;
    }
    return l.p;
}

static bool is_path(const char *spec)
{
    size_t n = strlen(spec);
    return strchr(spec, '/') || (n > 5 && strcmp(spec + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(spec + n - 4, ".yml") == 0);
}

static bool plain_name(const char *name)
{
    if (!*name || name[0] == '.')
        return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
              *c == '_' || *c == '.'))
            return false;
    return true;
}

/* Reads a whole (small) file; NULL when it cannot. Caller frees. */
static char *read_file(const char *path, size_t *len, int *error)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    *error = 0;
    if (!f) {
        *error = errno;
        return NULL;
    }
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            if (cap > MAX_POLICY_BYTES + 1)
                break;
            char *grown = realloc(buf, cap);
            if (!grown)
                break;
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f) || n > MAX_POLICY_BYTES || !buf) {
        *error = ferror(f) ? EIO : EFBIG;
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

static policy *load_file(const char *path, char *err, size_t err_size)
{
    size_t len = 0;
    int error;
    char *text = read_file(path, &len, &error);
    policy *p;

    if (!text) {
        snprintf(err, err_size, "%s: cannot read the policy: %s", path,
                 error == EFBIG ? "larger than 1 MiB" : strerror(error));
        return NULL;
    }
    p = policy_parse(text, len, path, err, err_size);
    free(text);
    return p;
}

policy *policy_load(const char *spec, const char *policy_dir, const char *fallback_dir, char *err, size_t err_size)
{
    const char *dirs[2] = {policy_dir, fallback_dir};
    char path[4096];

    if (!spec || !*spec) {
        snprintf(err, err_size, "no policy given");
        return NULL;
    }
    if (is_path(spec))
        return load_file(spec, err, err_size);
    if (!plain_name(spec)) {
        snprintf(err, err_size, "policy \"%s\" is neither a name ([A-Za-z0-9._-]) nor a path", spec);
        return NULL;
    }
    for (size_t i = 0; i < 2; i++) {
        if (!dirs[i] || !*dirs[i])
            continue;
        for (int ext = 0; ext < 2; ext++) {
            snprintf(path, sizeof path, "%s/%s%s", dirs[i], spec, ext ? ".yml" : ".yaml");
            FILE *f = fopen(path, "rb");
            if (f) {
                fclose(f);
                return load_file(path, err, err_size);
            }
        }
    }
    snprintf(err, err_size, "policy \"%s\" not found: looked for %s/%s.yaml%s%s%s", spec,
             policy_dir ? policy_dir : "", spec, fallback_dir ? " and " : "", fallback_dir ? fallback_dir : "",
             fallback_dir ? "/<name>.yaml" : "");
    return NULL;
}
