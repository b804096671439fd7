/* Domain objects (RFC 9083 section 5.3), padded to --size with the remarks
 * real registrars send. */
#include "rdapgen.h"

#include <string.h>

static const int status_sets[][5] = {
    {2, -1}, {0, -1}, {3, 2, 4, -1}, {2, 14, -1}, {15, -1}, {8, 7, 9, 2, -1}, {6, -1},
    {11, 12, -1}, {1, -1}, {13, -1}, {10, 2, -1}, {2, 3, -1}, {0, 16, -1},
};
static const int status_weights[] = {28, 14, 20, 7, 4, 8, 4, 3, 3, 2, 2, 4, 1};

static int pick_status(rng_t *r, int *out)
{
    uint32_t total = 0, n = sizeof status_weights / sizeof status_weights[0];
    for (uint32_t i = 0; i < n; i++)
        total += (uint32_t)status_weights[i];
    uint32_t v = rng_below(r, total), s = 0;
    while (v >= (uint32_t)status_weights[s])
        v -= (uint32_t)status_weights[s++];
    int k = 0;
    for (; status_sets[s][k] >= 0; k++)
        out[k] = status_sets[s][k];
    return k;
}

static void emit_domain_events(jw_t *w, gctx_t *g, rng_t *kr)
{
    const ident_t *id = g->id;
    int64_t created = id->created_ms < g->ts_ms ? id->created_ms : g->ts_ms - 86400000;
    int years = 1;
    while (add_years(created, years) <= g->ts_ms)
        years++;
    int64_t expires = add_years(created, years + (int)rng_below(&g->r, 2));
    int64_t transfer = created + (int64_t)(rng_unit(kr) * (double)(g->ts_ms - created));
    int has_transfer = rng_chance(kr, 0.25);
    int reg_exp = !g->ccname && rng_chance(kr, 0.3);
    int64_t dbupdate = g->ts_ms + (int64_t)rng_below(&g->r, 6 * 3600) * 1000;
    jw_key(w, "events");
    jw_arr(w);
    emit_event(w, g, "registration", created);
    if (has_transfer)
        emit_event(w, g, "transfer", transfer);
    if (id->registrar->iana % 2) {
        emit_event(w, g, "expiration", expires);
        if (reg_exp)
            emit_event(w, g, "registrar expiration", expires);
        emit_event(w, g, "last changed", g->ts_ms);
    } else {
        emit_event(w, g, "last changed", g->ts_ms);
        emit_event(w, g, "expiration", expires);
        if (reg_exp)
            emit_event(w, g, "registrar expiration", expires);
    }
    if (g->lean < 3)
        emit_event(w, g, "last update of RDAP database", dbupdate);
    jw_end_arr(w);
}

static void emit_nameservers(jw_t *w, gctx_t *g, rng_t *kr)
{
    uint32_t v = rng_below(kr, 100);
    int n = v < 70 ? 2 : v < 85 ? 3 : v < 93 ? 4 : rng_range(kr, 5, 8);
    int inzone = rng_chance(kr, 0.35);
    char host[200];
    sfmt(host, sizeof host, "%s-%s.example", pick(kr, &w_host_a), pick(kr, &w_host_b));
    int upper = g->id->ldh[0] >= 'A' && g->id->ldh[0] <= 'Z' && g->id->ldh[1] >= 'A';
    if (g->lean >= 2)
        n = 2;
    jw_key(w, "nameservers");
    jw_arr(w);
    for (int i = 1; i <= n; i++) {
        char name[300];
        sfmt(name, sizeof name, "ns%d.%s", i, inzone ? g->id->lower : host);
        if (upper)
            upper_ascii(name);
        jw_obj(w);
        jw_kstr(w, "objectClassName", "nameserver");
        if (rng_chance(kr, 0.1)) {
            jw_key(w, "handle");
            jw_strf(w, "H%u-%s", (unsigned)(mix64(g->id->key * 16u + (unsigned)i) % 900000000u) + 100000000u,
                    g->id->registry->handle_suffix);
        }
        jw_kstr(w, "ldhName", name);
        int v4 = inzone ? rng_chance(kr, 0.85) : rng_chance(kr, 0.2);
        int v6 = inzone ? rng_chance(kr, 0.5) : rng_chance(kr, 0.1);
        if (g->lean >= 2)
            v4 = v6 = 0;
        if (v4 || v6)
            emit_ip_addresses(w, kr, v4, v6);
        jw_end_obj(w);
    }
    jw_end_arr(w);
}

static void emit_secure_dns(jw_t *w, rng_t *kr)
{
    static const char hex[] = "0123456789ABCDEF";
    jw_key(w, "secureDNS");
    jw_obj(w);
    if (!rng_chance(kr, 0.22)) {
        jw_key(w, "delegationSigned");
        jw_bool(w, 0);
        jw_end_obj(w);
        return;
    }
    if (rng_chance(kr, 0.4)) {
        jw_key(w, "zoneSigned");
        jw_bool(w, 1);
    }
    jw_key(w, "delegationSigned");
    jw_bool(w, 1);
    if (rng_chance(kr, 0.3))
        jw_kint(w, "maxSigLife", 604800);
    jw_key(w, "dsData");
    jw_arr(w);
    int n = rng_chance(kr, 0.3) ? 2 : 1;
    int alg = rng_chance(kr, 0.7) ? 13 : 8;
    for (int i = 0; i < n; i++) {
        char digest[65];
        for (int j = 0; j < 64; j++)
            digest[j] = hex[rng_below(kr, 16)];
        digest[64] = 0;
        jw_obj(w);
        jw_kint(w, "keyTag", rng_range(kr, 1, 65535));
        jw_kint(w, "algorithm", alg);
        jw_kstr(w, "digest", digest);
        jw_kint(w, "digestType", 2);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    jw_end_obj(w);
}

static void emit_domain_notices(jw_t *w, gctx_t *g)
{
    const char *host = g->id->registry->host;
    jw_arr(w);
    emit_terms(w, g, host);
    if (g->lean >= 2) {
        /* small objects: terms of use only */
    } else if (g->ccname) {
        emit_notice(w, "Data Policy",
                    "Contact data is published in accordance with the registry's data publication policy.",
                    NULL, g->self_url, "about", "https://www.nic.test/data-policy");
    } else {
        emit_notice(w, "Status Codes",
                    "For more information on domain status codes, please visit https://icann.org/epp",
                    NULL, g->self_url, "glossary", "https://icann.org/epp");
        emit_notice(w, "RDDS Inaccuracy Complaint Form",
                    "URL of the ICANN RDDS Inaccuracy Complaint Form: https://icann.org/wicf", NULL,
                    g->self_url, "help", "https://icann.org/wicf");
    }
    jw_end_arr(w);
}

static void emit_padding(jw_t *w, gctx_t *g, rng_t *kr, const int *st, int nst, size_t limit)
{
    if (w->len + 160 > limit)
        return;
    jw_key(w, "remarks");
    jw_arr(w);
    unsigned start = rng_below(kr, n_pad_remarks), ncand = (unsigned)nst + n_pad_remarks;
    unsigned misses = 0;
    for (unsigned i = 0; misses < ncand && w->len + 60 < limit; i++) {
        const char *title, *href;
        const char *one[1];
        const char *const *desc;
        char hbuf[120];
        int nd;
        unsigned c = i % ncand;
        if (c < (unsigned)nst) {
            const status_t *s = &statuses[st[c]];
            title = s->epp;
            one[0] = s->explain;
            desc = one;
            nd = 1;
            sfmt(hbuf, sizeof hbuf, "https://icann.org/epp#%s", s->epp);
            href = hbuf;
        } else {
            const remark_t *rm = &pad_remarks[(start + c - (unsigned)nst) % n_pad_remarks];
            title = rm->title;
            desc = rm->desc;
            for (nd = 0; nd < 3 && desc[nd]; nd++)
                ;
            href = rm->href;
        }
        int fitted = 0;
        for (; nd > 0 && !fitted; nd--) {
            jw_mark_t m = jw_mark(w);
            emit_remark(w, g, title, desc, nd, href);
            fitted = w->len <= limit;
            if (!fitted)
                jw_rollback(w, m);
        }
        misses = fitted ? 0 : misses + 1;
    }
    jw_end_arr(w);
}

static void domain_entities(jw_t *w, gctx_t *g, rng_t *kr, size_t budget)
{
    const ident_t *id = g->id;
    uint32_t rev = g->rev;
    int reg_org = rng_chance(kr, 0.35), combined = rng_chance(kr, 0.1);
    int has_admin = rng_chance(kr, 0.75), has_tech = rng_chance(kr, 0.85);
    int has_billing = rng_chance(kr, 0.45), reseller = rng_chance(kr, 0.06);
    contact_spec_t rt = {.roles = {"technical"}, .nroles = 1, .kind = KIND_INDIVIDUAL, .slot = 4};
    jw_key(w, "entities");
    jw_arr(w);
    jw_mark_t m = jw_mark(w);
    int detail = g->lean >= 3 ? 0 : g->lean >= 1 ? 1 : 2;
    reseller = reseller && g->lean == 0;
    emit_registrar(w, g, detail, reseller ? &rt : NULL);
    if (reseller && w->len > budget) {
        jw_rollback(w, m);
        emit_registrar(w, g, detail, NULL);
    }
    contact_spec_t reg = {.roles = {"registrant"}, .nroles = 1,
                          .kind = reg_org ? KIND_ORG : KIND_INDIVIDUAL, .slot = 0,
                          .epoch = rev / 2, .country = id->country, .with_events = g->lean < 3};
    if (g->ccname && combined) {
        reg.roles[1] = "administrative";
        reg.nroles = 2;
    }
    emit_contact(w, g, &reg);
    contact_spec_t opt[3] = {
        {.roles = {"administrative"}, .nroles = 1, .slot = 1, .epoch = rev / 4, .with_events = 1},
        {.roles = {"technical"}, .nroles = 1, .slot = 2, .epoch = rev / 3, .with_events = 1},
        {.roles = {"billing"}, .nroles = 1, .slot = 3, .epoch = rev / 5, .with_events = 1},
    };
    int present[3] = {has_admin && !(g->ccname && combined), has_tech, has_billing};
    if (combined && !g->ccname && has_admin) {
        opt[0].roles[1] = "technical";
        opt[0].nroles = 2;
        present[1] = 0;
    }
    for (int i = 0; i < 3; i++) {
        if (!present[i])
            continue;
        m = jw_mark(w);
        emit_contact(w, g, &opt[i]);
        if (w->len > budget)
            jw_rollback(w, m);
    }
    jw_end_arr(w);
}

static jw_t scratch; /* notices, rendered first so their size is known */

void gen_domain(jw_t *w, const genopts_t *o, const ident_t *id, uint32_t rev, int64_t ts)
{
    gctx_t g;
    gctx_init(&g, o, id, rev, ts, "domain", id->lower);
    rng_t kr;
    rng_seed(&kr, o->seed, id->key, 0xd0, 0);
    size_t start = w->len;
    size_t target = (size_t)((double)o->size * id->size_jitter);
    g.lean = target >= 3400 ? 0 : target >= 2700 ? 1 : target >= 2000 ? 2 : target >= 1500 ? 3 : 4;
    jw_reset(&scratch);
    if (g.lean < 4) /* the smallest objects go without notices */
        emit_domain_notices(&scratch, &g);
    size_t tail = scratch.len + (g.lean < 4 ? sizeof ",\"notices\":}" - 1 : 1);
    size_t budget = start + (target > tail ? target - tail : 0);

    jw_obj(w);
    if (g.ccname || g.lean >= 3)
        emit_conformance(w, conf_gtld, 1, NULL);
    else
        emit_conformance(w, rng_chance(&kr, 0.2) ? conf_gtld0 : conf_gtld, 3, NULL);
    jw_kstr(w, "objectClassName", "domain");
    jw_kstr(w, "handle", id->handle); /* always: it is the key */
    jw_kstr(w, "ldhName", id->ldh);
    if (id->uname[0])
        jw_kstr(w, "unicodeName", id->uname);
    if (g.ccname)
        jw_kstr(w, "lang", "fr");
    jw_key(w, "links");
    jw_arr(w);
    emit_link(w, g.self_url, "self", g.self_url, "application/rdap+json");
    if (!g.ccname && g.lean < 3) {
        char rel[400];
        sfmt(rel, sizeof rel, "https://rdap.%s.example/domain/%s", id->registrar->slug, id->lower);
        emit_link(w, g.self_url, "related", rel, "application/rdap+json");
    }
    jw_end_arr(w);
    int st[5];
    int nst = pick_status(&g.r, st);
    emit_status(w, &g.r, st, nst, id->registrar->status_style);
    jw_key(w, "port43");
    jw_strf(w, "whois.%s", id->registry->host);
    emit_domain_events(w, &g, &kr);
    if (st[0] != 1 && st[0] != 11)
        emit_nameservers(w, &g, &kr);
    if (g.lean < 4)
        emit_secure_dns(w, &kr);
    domain_entities(w, &g, &kr, budget);
    emit_padding(w, &g, &kr, st, nst, budget);
    if (g.lean < 4) {
        jw_key(w, "notices");
        jw_raw(w, scratch.buf, scratch.len);
    }
    jw_end_obj(w);
}

