/* RDAP objects of the mixed classes (entity, nameserver, ip network,
 * autnum) and the pieces all classes share. Domains are in domain.c. */
#include "rdapgen.h"

#include <string.h>

const char *const conf_gtld[3] = {"rdap_level_0", "icann_rdap_response_profile_1",
                                  "icann_rdap_technical_implementation_guide_1"};
const char *const conf_gtld0[3] = {"rdap_level_0", "icann_rdap_response_profile_0",
                                   "icann_rdap_technical_implementation_guide_0"};

/* ---- pieces shared by all classes ---- */

void emit_conformance(jw_t *w, const char *const *v, int n, const char *extra)
{
    jw_key(w, "rdapConformance");
    jw_arr(w);
    for (int i = 0; i < n; i++)
        jw_str(w, v[i]);
    if (extra)
        jw_str(w, extra);
    jw_end_arr(w);
}

void emit_notice(jw_t *w, const char *title, const char *d1, const char *d2,
                        const char *self, const char *rel, const char *href)
{
    jw_obj(w);
    jw_kstr(w, "title", title);
    jw_key(w, "description");
    jw_arr(w);
    jw_str(w, d1);
    if (d2)
        jw_str(w, d2);
    jw_end_arr(w);
    if (href) {
        jw_key(w, "links");
        jw_arr(w);
        emit_link(w, self, rel, href, "text/html");
        jw_end_arr(w);
    }
    jw_end_obj(w);
}

void emit_terms(jw_t *w, gctx_t *g, const char *host)
{
    char href[200];
    sfmt(href, sizeof href, "https://www.%s/rdap-terms", host);
    emit_notice(w, "Terms of Use", "Service subject to Terms of Use.",
                g->id->registry == &registries[REG_JA] ? "利用規約に従ってご利用ください。"
                : g->ccname ? "Service soumis aux conditions d'utilisation." : NULL,
                g->self_url, "terms-of-service", href);
}

void emit_status(jw_t *w, rng_t *r, const int *idx, int n, int style)
{
    jw_key(w, "status");
    jw_arr(w);
    for (int i = 0; i < n; i++) {
        int epp = style == 1 || (style == 2 && rng_chance(r, 0.5));
        jw_str(w, epp ? statuses[idx[i]].epp : statuses[idx[i]].rdap);
    }
    jw_end_arr(w);
}

void gctx_init(gctx_t *g, const genopts_t *o, const ident_t *id, uint32_t rev,
                      int64_t ts_ms, const char *path, const char *name)
{
    memset(g, 0, sizeof *g);
    g->o = o;
    g->id = id;
    g->rev = rev;
    g->ts_ms = ts_ms;
    rng_seed(&g->r, o->seed, id->key, 0x5e7, rev);
    g->salt = mix64(o->seed) % 10000019u;
    g->date_style = id->key % 4 == 0 ? 0 : id->registrar->date_style;
    g->tel_text = id->registrar->tel_text;
    g->ccname = id->registry->cctld_style;
    const char *host = id->cls == CLS_IP || id->cls == CLS_AUTNUM ||
                               (id->cls == CLS_ENTITY && id->variant == 1)
                           ? "rir.example"
                           : id->registry->host;
    sfmt(g->self_url, sizeof g->self_url, "https://rdap.%s/%s/%s", host, path, name);
    if (strcmp(host, "rir.example") == 0) {
        rng_t r;
        rng_seed(&r, o->seed, id->key, 0x0f9, 0);
        org_name(&r, id->country, g->org, sizeof g->org);
        char slug[160];
        ascii_slug(g->org, slug, sizeof slug, 0);
        if (strlen(slug) < 4)
            sfmt(slug, sizeof slug, "org%u", id->key + 1);
        sfmt(g->org_tag, sizeof g->org_tag, "%.10s", slug);
        upper_ascii(g->org_tag);
    }
}

/* ---- domain ---- */

void emit_ip_addresses(jw_t *w, rng_t *r, int v4, int v6)
{
    static const char *const nets[] = {"192.0.2", "198.51.100", "203.0.113"};
    jw_key(w, "ipAddresses");
    jw_obj(w);
    if (v4) {
        jw_key(w, "v4");
        jw_arr(w);
        jw_strf(w, "%s.%d", nets[rng_below(r, 3)], rng_range(r, 1, 254));
        jw_end_arr(w);
    }
    if (v6) {
        jw_key(w, "v6");
        jw_arr(w);
        jw_strf(w, "2001:db8:%x::%x", rng_below(r, 65536), rng_range(r, 1, 255));
        jw_end_arr(w);
    }
    jw_end_obj(w);
}

void emit_remark(jw_t *w, gctx_t *g, const char *title, const char *const *desc, int nd,
                        const char *href)
{
    jw_obj(w);
    jw_kstr(w, "title", title);
    jw_key(w, "description");
    jw_arr(w);
    for (int i = 0; i < nd && desc[i]; i++)
        jw_str(w, desc[i]);
    jw_end_arr(w);
    if (href) {
        jw_key(w, "links");
        jw_arr(w);
        emit_link(w, g->self_url, "related", href, "text/html");
        jw_end_arr(w);
    }
    jw_end_obj(w);
}

/* Remarks real registrars send (status explanations, disclaimers) while
 * they fit under `limit` bytes; a remark that does not fit is tried with
 * fewer description lines, then skipped. Nothing is cut mid-sentence. */
static void emit_self_links(jw_t *w, gctx_t *g, const char *up)
{
    jw_key(w, "links");
    jw_arr(w);
    emit_link(w, g->self_url, "self", g->self_url, "application/rdap+json");
    if (up)
        emit_link(w, g->self_url, "up", up, "application/rdap+json");
    jw_end_arr(w);
}

static void emit_rir_tail(jw_t *w, gctx_t *g)
{
    jw_kstr(w, "port43", "whois.rir.example");
    jw_key(w, "notices");
    jw_arr(w);
    emit_notice(w, "Terms and Conditions",
                "This is an example RIR RDAP service. Data is provided for network operations purposes.",
                NULL, g->self_url, "terms-of-service", "https://www.rir.example/legal/rdap");
    jw_end_arr(w);
}

static void emit_simple_events(jw_t *w, gctx_t *g)
{
    jw_key(w, "events");
    jw_arr(w);
    emit_event(w, g, "registration", g->id->created_ms < g->ts_ms ? g->id->created_ms : g->ts_ms);
    emit_event(w, g, "last changed", g->ts_ms);
    jw_end_arr(w);
}

/* Registrant org + abuse group + technical person, as RIRs publish them. */
static void emit_rir_entities(jw_t *w, gctx_t *g, int with_org)
{
    uint32_t rev = g->rev;
    const char *on = g->org;
    contact_spec_t org = {.roles = {"registrant"}, .nroles = 1, .kind = KIND_ORG, .slot = 0,
                          .epoch = rev / 3, .country = g->id->country, .org = on};
    contact_spec_t abuse = {.roles = {"abuse"}, .nroles = 1, .kind = KIND_GROUP, .slot = 1,
                            .country = g->id->country, .org = on};
    contact_spec_t tech = {.roles = {"technical", "administrative"}, .nroles = 2,
                           .kind = KIND_INDIVIDUAL, .slot = 2, .epoch = rev / 2, .org = on};
    jw_key(w, "entities");
    jw_arr(w);
    if (with_org)
        emit_contact(w, g, &org);
    emit_contact(w, g, &abuse);
    emit_contact(w, g, &tech);
    jw_end_arr(w);
}

static void gen_nameserver(jw_t *w, const genopts_t *o, const ident_t *id, uint32_t rev, int64_t ts)
{
    gctx_t g;
    gctx_init(&g, o, id, rev, ts, "nameserver", id->lower);
    rng_t kr;
    rng_seed(&kr, o->seed, id->key, 0x5e, 0);
    jw_obj(w);
    emit_conformance(w, conf_gtld, 3, NULL);
    jw_kstr(w, "objectClassName", "nameserver");
    jw_kstr(w, "handle", id->handle);
    jw_kstr(w, "ldhName", id->ldh);
    emit_ip_addresses(w, &kr, 1, rng_chance(&kr, 0.6));
    int st[2] = {0, status_index("associated")}, nst = rng_chance(&g.r, 0.6) ? 1 : 2;
    emit_status(w, &g.r, st, nst, id->registrar->status_style);
    jw_key(w, "entities");
    jw_arr(w);
    emit_registrar(w, &g, 0, NULL);
    jw_end_arr(w);
    jw_key(w, "events");
    jw_arr(w);
    emit_event(w, &g, "registration", id->created_ms < ts ? id->created_ms : ts);
    emit_event(w, &g, "last changed", ts);
    emit_event(w, &g, "last update of RDAP database", ts + 3600000);
    jw_end_arr(w);
    emit_self_links(w, &g, NULL);
    jw_kstr(w, "port43", "whois.nic.example");
    jw_key(w, "notices");
    jw_arr(w);
    emit_terms(w, &g, "nic.example");
    jw_end_arr(w);
    jw_end_obj(w);
}

static void gen_entity(jw_t *w, const genopts_t *o, const ident_t *id, uint32_t rev, int64_t ts)
{
    gctx_t g;
    gctx_init(&g, o, id, rev, ts, "entity", id->handle);
    int rir = id->variant == 1;
    contact_spec_t cs = {.roles = {"registrant"}, .nroles = 1,
                         .kind = rir ? KIND_ORG : KIND_INDIVIDUAL, .slot = 0, .epoch = rev / 2,
                         .country = id->country, .handle = id->handle, .org = rir ? g.org : NULL};
    jw_obj(w);
    if (rir)
        emit_conformance(w, conf_gtld, 1, "cidr0");
    else
        emit_conformance(w, conf_gtld, 3, NULL);
    emit_contact_members(w, &g, &cs);
    int st[1] = {status_index("associated")};
    if (!rir)
        emit_status(w, &g.r, st, 1, 0);
    emit_simple_events(w, &g);
    if (rir) {
        emit_rir_entities(w, &g, 0);
        char start[64], end[64], handle[64];
        int v6, plen;
        ip_block(id->key ^ 0x40000000u, &v6, start, end, &plen, handle, sizeof handle);
        jw_key(w, "networks");
        jw_arr(w);
        jw_obj(w);
        jw_kstr(w, "objectClassName", "ip network");
        jw_kstr(w, "handle", handle);
        jw_kstr(w, "startAddress", start);
        jw_kstr(w, "endAddress", end);
        jw_kstr(w, "ipVersion", v6 ? "v6" : "v4");
        jw_kstr(w, "country", id->country->cc);
        jw_end_obj(w);
        jw_end_arr(w);
    } else {
        jw_key(w, "remarks");
        jw_arr(w);
        char d[32], text[120];
        fmt_date(d, ts - 86400000LL * (int64_t)rng_below(&g.r, 400), 0);
        sfmt(text, sizeof text, "Email address verified by the sponsoring registrar on %.10s.", d);
        const char *desc[1] = {text};
        emit_remark(w, &g, "Contact validation", desc, 1, NULL);
        jw_end_arr(w);
    }
    emit_self_links(w, &g, NULL);
    if (rir) {
        emit_rir_tail(w, &g);
    } else {
        jw_kstr(w, "port43", "whois.nic.example");
        jw_key(w, "notices");
        jw_arr(w);
        emit_terms(w, &g, "nic.example");
        jw_end_arr(w);
    }
    jw_end_obj(w);
}

static void gen_ip(jw_t *w, const genopts_t *o, const ident_t *id, uint32_t rev, int64_t ts)
{
    char start[64], end[64], handle[64], path[160], up[200];
    int v6, plen;
    ip_block(id->key, &v6, start, end, &plen, handle, sizeof handle);
    sfmt(path, sizeof path, "%s/%d", start, plen);
    gctx_t g;
    gctx_init(&g, o, id, rev, ts, "ip", path);
    sfmt(up, sizeof up, "https://rdap.rir.example/ip/%s", v6 ? "2001:db8::/32" : "198.18.0.0/15");
    static const char *const types[] = {"ASSIGNED PA", "ALLOCATED PA", "SUB-ALLOCATED PA",
                                        "DIRECT ASSIGNMENT", "ASSIGNED PI"};
    jw_obj(w);
    emit_conformance(w, conf_gtld, 1, "cidr0");
    jw_kstr(w, "objectClassName", "ip network");
    jw_kstr(w, "handle", id->handle);
    jw_kstr(w, "startAddress", start);
    jw_kstr(w, "endAddress", end);
    jw_kstr(w, "ipVersion", v6 ? "v6" : "v4");
    jw_key(w, "name");
    jw_strf(w, "%s-NET%u", g.org_tag, id->key % 100 + 1);
    jw_kstr(w, "type", types[id->key % 5]);
    jw_kstr(w, "country", id->country->cc);
    jw_kstr(w, "parentHandle", v6 ? "NET6-2001-DB8-0" : "NET-198-18-0-0-0");
    int st[1] = {0};
    emit_status(w, &g.r, st, 1, 0);
    jw_key(w, "cidr0_cidrs");
    jw_arr(w);
    jw_obj(w);
    jw_kstr(w, v6 ? "v6prefix" : "v4prefix", start);
    jw_kint(w, "length", plen);
    jw_end_obj(w);
    jw_end_arr(w);
    emit_rir_entities(w, &g, 1);
    emit_simple_events(w, &g);
    emit_self_links(w, &g, up);
    emit_rir_tail(w, &g);
    jw_end_obj(w);
}

static void gen_autnum(jw_t *w, const genopts_t *o, const ident_t *id, uint32_t rev, int64_t ts)
{
    unsigned asn = 4200000000u + id->key % 94967294u;
    char num[16];
    sfmt(num, sizeof num, "%u", asn);
    gctx_t g;
    gctx_init(&g, o, id, rev, ts, "autnum", num);
    jw_obj(w);
    emit_conformance(w, conf_gtld, 1, NULL);
    jw_kstr(w, "objectClassName", "autnum");
    jw_kstr(w, "handle", id->handle);
    jw_kint(w, "startAutnum", asn);
    jw_kint(w, "endAutnum", asn);
    jw_key(w, "name");
    jw_strf(w, "%s-AS", g.org_tag);
    jw_kstr(w, "type", id->variant ? "DIRECT ALLOCATION" : "ASSIGNED");
    jw_kstr(w, "country", id->country->cc);
    int st[1] = {0};
    emit_status(w, &g.r, st, 1, 0);
    emit_rir_entities(w, &g, 1);
    jw_key(w, "remarks");
    jw_arr(w);
    jw_obj(w);
    jw_key(w, "description");
    jw_arr(w);
    char slug[160];
    ascii_slug(g.org, slug, sizeof slug, '-');
    jw_strf(w, "Peering policy: %s. See https://www.%s.example/peering",
            rng_chance(&g.r, 0.7) ? "open" : "selective", slug[0] ? slug : "peering-db");
    jw_end_arr(w);
    jw_end_obj(w);
    jw_end_arr(w);
    emit_simple_events(w, &g);
    emit_self_links(w, &g, NULL);
    emit_rir_tail(w, &g);
    jw_end_obj(w);
}

void gen_object(jw_t *w, const genopts_t *o, const ident_t *id, uint32_t rev, int64_t ts_ms)
{
    switch (id->cls) {
    case CLS_DOMAIN: gen_domain(w, o, id, rev, ts_ms); break;
    case CLS_ENTITY: gen_entity(w, o, id, rev, ts_ms); break;
    case CLS_NAMESERVER: gen_nameserver(w, o, id, rev, ts_ms); break;
    case CLS_IP: gen_ip(w, o, id, rev, ts_ms); break;
    default: gen_autnum(w, o, id, rev, ts_ms);
    }
}

