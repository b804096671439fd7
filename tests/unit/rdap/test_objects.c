/* Objects-file lines: what each form follows, and what is refused. */
#include <criterion/criterion.h>
#include <string.h>

#include "rdap_parts.h"

static int parse(const char *line, obj_spec *o)
{
    char err[256];
    return obj_parse_line(line, strlen(line), o, err, sizeof(err));
}

Test(objects, domain_is_lowercased_without_trailing_dot)
{
    obj_spec o;
    cr_assert_eq(parse("  Example.COM.  \n", &o), 1);
    cr_assert_eq(o.kind, OBJ_DOMAIN);
    cr_assert_str_eq(o.id, "domain:example.com");
    cr_assert_str_eq(o.path, "domain/example.com");
    cr_assert_str_eq(o.lookup, "example.com");
    obj_spec_free(&o);
}

Test(objects, blank_lines_and_comments_are_skipped)
{
    obj_spec o;
    cr_assert_eq(parse("", &o), 0);
    cr_assert_eq(parse("   \t", &o), 0);
    cr_assert_eq(parse("# a comment", &o), 0);
    cr_assert_eq(parse("example.org # trailing comment", &o), 1);
    cr_assert_str_eq(o.id, "domain:example.org");
    obj_spec_free(&o);
}

Test(objects, entity_lookup_is_the_tag_after_the_last_hyphen)
{
    obj_spec o;
    cr_assert_eq(parse("entity:XYZ123-FRNIC", &o), 1);
    cr_assert_eq(o.kind, OBJ_ENTITY);
    cr_assert_str_eq(o.path, "entity/XYZ123-FRNIC");
    cr_assert_str_eq(o.lookup, "FRNIC");
    obj_spec_free(&o);
}

Test(objects, ip_is_canonical_with_prefix)
{
    obj_spec o;
    cr_assert_eq(parse("ip:2001:DB8::/32", &o), 1);
    cr_assert_eq(o.kind, OBJ_IP);
    cr_assert_str_eq(o.id, "ip:2001:db8::/32");
    cr_assert_str_eq(o.path, "ip/2001:db8::/32");
    cr_assert_eq(o.prefix, 32);
    obj_spec_free(&o);
    cr_assert_eq(parse("ip:192.0.2.1", &o), 1);
    cr_assert_str_eq(o.id, "ip:192.0.2.1/32");
    obj_spec_free(&o);
}

Test(objects, autnum_is_a_32_bit_number)
{
    obj_spec o;
    cr_assert_eq(parse("autnum:64496", &o), 1);
    cr_assert_str_eq(o.path, "autnum/64496");
    obj_spec_free(&o);
    cr_assert_eq(parse("autnum:4294967296", &o), -1);
    cr_assert_eq(parse("autnum:AS1", &o), -1);
}

Test(objects, malformed_lines_are_refused_with_a_reason)
{
    obj_spec o;
    char err[256] = "";
    const char *bad[] = {"ip:300.1.1.1/8", "ip:192.0.2.0/33", "entity:a/b", "nameserver:ns1.example",
                         "exa mple.com", "a..b", "entity:"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        cr_assert_eq(obj_parse_line(bad[i], strlen(bad[i]), &o, err, sizeof(err)), -1, "%s", bad[i]);
        cr_assert(err[0] != '\0', "no reason for %s", bad[i]);
    }
}
