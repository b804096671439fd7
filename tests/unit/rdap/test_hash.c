/* The content hash: blind to volatile events and member order, not to data. */
#include <criterion/criterion.h>
#include <string.h>

#include "loader.h"
#include "rdap_parts.h"

static void hash_of(const char *json, unsigned char out[32])
{
    const rdapsync_json_api *J = host_api_table()->json;
    static char *items[] = {"last update of RDAP database"};
    static char *set_items[] = {"rdapConformance", "status", "roles"};
    rdapsync_string_list vol = {1, items}, sets = {3, set_items};
    char err[256];
    rdapsync_value *v = J->parse(json, strlen(json), err, sizeof(err));
    cr_assert_not_null(v, "%s", err);
    cr_assert_eq(content_hash(J, v, &vol, &sets, out), 0);
    /* The document itself is untouched: the record carries every event. */
    char *again = J->dump(v, 0, NULL);
    cr_assert(strstr(json, "last update") == NULL || strstr(again, "last update") != NULL);
    host_api_table()->free(again);
    J->decref(v);
}

#define DOC(upd, extra)                                                                                       \
    "{\"objectClassName\":\"domain\",\"ldhName\":\"a.example\"" extra ",\"events\":["                        \
    "{\"eventAction\":\"last changed\",\"eventDate\":\"2024-01-01T00:00:00Z\"},"                             \
    "{\"eventAction\":\"last update of RDAP database\",\"eventDate\":\"" upd "\"}]}"

Test(hash, ignores_the_last_update_of_rdap_database_event)
{
    unsigned char a[32], b[32];
    hash_of(DOC("2025-05-01T10:00:00Z", ""), a);
    hash_of(DOC("2025-05-01T10:00:07Z", ""), b);
    cr_assert_eq(memcmp(a, b, 32), 0);
}

Test(hash, ignores_member_order)
{
    unsigned char a[32], b[32];
    hash_of("{\"a\":1,\"b\":{\"x\":[1,2],\"y\":null}}", a);
    hash_of("{\"b\":{\"y\":null,\"x\":[1,2]},\"a\":1}", b);
    cr_assert_eq(memcmp(a, b, 32), 0);
}

Test(hash, sees_a_change_of_registration_data)
{
    unsigned char a[32], b[32];
    hash_of(DOC("2025-05-01T10:00:00Z", ",\"status\":[\"active\"]"), a);
    hash_of(DOC("2025-05-01T10:00:00Z", ",\"status\":[\"client hold\"]"), b);
    cr_assert_neq(memcmp(a, b, 32), 0);
}

Test(hash, ignores_volatile_events_of_nested_objects_too)
{
    unsigned char a[32], b[32];
    hash_of("{\"entities\":[{\"events\":[{\"eventAction\":\"last update of RDAP database\",\"eventDate\":\"1\"}]}]}", a);
    hash_of("{\"entities\":[{\"events\":[{\"eventAction\":\"last update of RDAP database\",\"eventDate\":\"2\"}]}]}", b);
    cr_assert_eq(memcmp(a, b, 32), 0);
}

Test(hash, ignores_the_order_of_sets_like_rdapConformance)
{
    unsigned char a[32], b[32];
    hash_of("{\"rdapConformance\":[\"rdap_level_0\",\"icann_rdap_response_profile_1\"],"
            "\"entities\":[{\"roles\":[\"technical\",\"administrative\"]}]}", a);
    hash_of("{\"rdapConformance\":[\"icann_rdap_response_profile_1\",\"rdap_level_0\"],"
            "\"entities\":[{\"roles\":[\"administrative\",\"technical\"]}]}", b);
    cr_assert_eq(memcmp(a, b, 32), 0);
}

Test(hash, keeps_the_order_of_arrays_that_are_lists)
{
    unsigned char a[32], b[32];
    hash_of("{\"nameservers\":[{\"ldhName\":\"ns1.example\"},{\"ldhName\":\"ns2.example\"}],"
            "\"remarks\":[{\"description\":[\"one\",\"two\"]}]}", a);
    hash_of("{\"nameservers\":[{\"ldhName\":\"ns1.example\"},{\"ldhName\":\"ns2.example\"}],"
            "\"remarks\":[{\"description\":[\"two\",\"one\"]}]}", b);
    cr_assert_neq(memcmp(a, b, 32), 0);
}
