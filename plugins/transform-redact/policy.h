/*
 * Redaction policies: what to redact, for whom, how, and how long the result
 * may be kept. Loaded from YAML files (policy_load.c, format in
 * docs/policies.md); read-only once loaded.
 */
#ifndef RDAPSYNC_POLICY_H
#define RDAPSYNC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The contact fields a rule can name, in the unified shape's vocabulary;
 * each maps to jCard properties / parts for raw RDAP (docs/policies.md). */
typedef enum rfield {
    RF_NAME = 0,     /* fn (all of them), n; unified name, alt_names */
    RF_ORGANIZATION, /* org; organization, organization_units */
    RF_EMAIL,        /* email; mailto: inside contact-uri */
    RF_PHONE,        /* tel without type fax; tel: inside contact-uri */
    RF_FAX,          /* tel with type fax */
    RF_CONTACT_URI,  /* contact-uri as a whole */
    RF_URL,          /* url */
    RF_PO_BOX,       /* adr part 0 */
    RF_STREET,       /* adr parts 1 and 2 (extended address, street) */
    RF_LOCALITY,     /* adr part 3 */
    RF_REGION,       /* adr part 4 */
    RF_POSTAL_CODE,  /* adr part 5 */
    RF_COUNTRY,      /* adr part 6 and the cc parameter */
    RF_LABEL,        /* adr label parameter (the formatted address) */
    RF_HANDLE,       /* the entity's handle */
    RF_ENTITY,       /* the whole contact (removal only) */
    RF_COUNT
} rfield;

typedef enum rmethod { RM_REMOVAL = 0, RM_EMPTY_VALUE, RM_PARTIAL_VALUE, RM_REPLACEMENT_VALUE } rmethod;

/* Entity kinds as far as policies care. */
enum { KIND_INDIVIDUAL = 1u, KIND_ORG = 2u };

/* Record classification, ordered by sensitivity. */
typedef enum rclass { CLASS_PUBLIC = 0, CLASS_BUSINESS = 1, CLASS_PERSONAL = 2, CLASS_COUNT } rclass;

typedef struct string_set {
    char **items; /* owned */
    size_t count;
} string_set;

typedef struct rrule {
    uint32_t fields;       /* bit (1u << rfield) */
    string_set properties; /* other jCard property names, lower case */
    rmethod method;
    char *value;  /* replacementValue: the replacement (owned) */
    int keep;     /* partialValue: characters kept (-1: the field's default) */
    char *reason; /* owned; NULL: the policy's */
    string_set roles;        /* empty: every role */
    string_set except_roles; /* the rule never applies to these */
    unsigned kinds;          /* KIND_* bits; 0: every kind */
    string_set countries;    /* upper case; empty: anywhere */
    string_set regions;      /* empty: anywhere */
    int line;                /* in the policy file, for messages */
} rrule;

typedef struct policy {
    char *name;   /* owned */
    char *path;   /* owned: the file it came from */
    char *reason; /* owned; may be NULL */
    rrule *rules; /* owned, in file order: the first match wins */
    size_t rule_count;
    unsigned missing_kind;         /* KIND_INDIVIDUAL or KIND_ORG */
    string_set organization_roles; /* an entity without kind holding one of these is an organisation */
    string_set public_roles;       /* contact data of organisations holding only these roles is public */
    int64_t retention_days[CLASS_COUNT]; /* -1: no deadline */
} policy;

/* What a rule is matched against: one contact. */
typedef struct subject {
    const char *roles[16]; /* borrowed from the document */
    size_t role_count;
    unsigned kind;       /* KIND_INDIVIDUAL or KIND_ORG, after the policy's defaults */
    const char *country; /* borrowed; may be NULL */
    const char *region;  /* borrowed; may be NULL */
} subject;

/*
 * Loads the policy `spec`: a path (contains '/' or ends in .yaml/.yml) or a
 * name looked up as <dir>/<name>.yaml in policy_dir, then in fallback_dir
 * (may be NULL). Returns NULL with "file:line:column: reason" in err.
 * Caller frees with policy_free().
 */
policy *policy_load(const char *spec, const char *policy_dir, const char *fallback_dir, char *err,
                    size_t err_size);
/* Parses policy text; `name` is the file name used in messages and as the
 * default policy name. */
policy *policy_parse(const char *text, size_t len, const char *name, char *err, size_t err_size);
void policy_free(policy *policy);

/* The first rule naming `field` that applies to `subject`, or NULL. */
const rrule *policy_rule_for(const policy *policy, rfield field, const subject *subject);
/* The first rule naming jCard property `name` (other than the mapped ones) that applies, or NULL. */
const rrule *policy_rule_for_property(const policy *policy, const char *name, const subject *subject);
/* Sets subject->kind from the jCard kind as written (may be NULL) and the roles. */
void policy_resolve_kind(const policy *policy, subject *subject, const char *jcard_kind);
/* True when every role of the subject is one of the public roles (and it has one). */
bool policy_public_subject(const policy *policy, const subject *subject);

const char *rmethod_name(rmethod method);   /* RFC 9537 spelling */
const char *rclass_name(rclass classification); /* public, business-sensitive, personal */

#endif
