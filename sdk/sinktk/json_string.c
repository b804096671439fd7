/*
 * A key as a JSON string. The host's serializer writes it, so hand-built
 * documents and host-built ones agree byte for byte, and there is one set
 * of escaping rules to keep, not two.
 */
#include <rdapsync/sinktk.h>

int rdapsync_sinktk_json_string(const rdapsync_host *host, const char *bytes, size_t len, rdapsync_dump_fn fn,
                                void *opaque)
{
    rdapsync_value *text = host->json->string_new(bytes, len);
    if (!text)
        return -1;
    int rc = host->json->dump_cb(text, 0, fn, opaque);
    host->json->decref(text);
    return rc == 0 ? 0 : -1;
}
