/* The binding of a record's values: its key and version (crypt.h). */
#ifndef RDAPSYNC_CRYPT_BINDING_H
#define RDAPSYNC_CRYPT_BINDING_H

#include "crypt.h"

static inline crypt_binding crypt_record_binding(const rdapsync_record *record)
{
    crypt_binding b = {record->key, record->key_len, &record->version, "$"};
    return b;
}

#endif
