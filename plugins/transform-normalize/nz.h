/*
 * Internals of the RDAP -> unified conversion shared by its files
 * (unified.c: object classes; contact.c: entities and jCard). Not part of
 * any interface outside this plugin and its tests.
 */
#ifndef RDAPSYNC_NZ_H
#define RDAPSYNC_NZ_H

#include <stdbool.h>
#include <stddef.h>

#include <rdapsync/rdapsync.h>

#include "jpath.h"
#include "unified.h"

typedef struct nz {
    const rdapsync_json_api *j;
    const unified_options *opt;
    jpath path;
    char *err;
    size_t err_size;
    rdapsync_value *contacts;  /* role -> [contact]; owned until attached */
    rdapsync_value *registrar; /* owned until attached */
} nz;

/* Writes "PATH: message" into the error buffer; returns -1. */
int nz_fail(nz *z, const char *fmt, ...) RDAPSYNC_PRINTF(2, 3);
/* An allocation failed (at the current path); returns -1. */
int nz_oom(nz *z);

/*
 * Member `key` of `object` when it has `type`: *out borrowed, or NULL when
 * absent or JSON null. A member of another type is an error naming its path.
 * 0 or -1.
 */
int nz_member(nz *z, rdapsync_value *object, const char *key, rdapsync_value_type type, rdapsync_value **out);

/* A new string: the len bytes at s lower-cased (ASCII only), or with
 * `token` the tokens.h form. NULL on allocation failure. */
rdapsync_value *nz_lower(nz *z, const char *s, size_t len);
rdapsync_value *nz_token(nz *z, const char *s, size_t len, int token_kind);

/* Appends item (stolen) to *array, creating the array on first use. 0 or -1. */
int nz_append(nz *z, rdapsync_value **array, rdapsync_value *item);

/* The contact object of the entity at the current path (owned), or NULL on error. */
rdapsync_value *nz_contact(nz *z, rdapsync_value *entity);

/* Files the entities of `owner` (its "entities" member) into z->registrar
 * and z->contacts; nested entities follow. 0 or -1. */
int nz_entities(nz *z, rdapsync_value *owner, bool owner_is_registrar);

#endif
