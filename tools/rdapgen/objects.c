/* RDAP objects: identities of keys, and domain, entity, nameserver,
 * ip network and autnum responses built from them. */
#include "rdapgen.h"

#include <string.h>

static const char *const conf_gtld[] = {"rdap_level_0", "icann_rdap_response_profile_1",
                                        "icann_rdap_technical_implementation_guide_1"};
static const char *const conf_gtld0[] = {"rdap_level_0", "icann_rdap_response_profile_0",
                                         "icann_rdap_technical_implementation_guide_0"};

/* ---- identities ---- */

static uint32_t scramble(uint32_t key) { return (key + 1u) * 2654435761u; }

static void ip_block(uint32_t key, int *v6, char *start, char *end, int *plen, char *handle,
                     size_t hsz)
{
    uint64_t h = mix64(key ^ 0x1b10c4ULL);
    *v6 = h % 3 == 0;
    if (*v6) {
        unsigned seg = (unsigned)(h >> 16) & 0xffff;
        *plen = 48;
        sfmt(start, 64, "2001:db8:%x::", seg);
        sfmt(end, 64, "2001:db8:%x:ffff:ffff:ffff:ffff:ffff", seg);
        sfmt(handle, hsz, "NET6-2001-DB8-%X-%u", seg, key + 1);
        return;
    }
    /* 198.18.0.0/15 (RFC 2544) carved into /24../29 blocks */
    *plen = 24 + (int)(h % 6);
    uint32_t size = 1u << (32 - *plen), base = 0xc6120000u;
    uint32_t s = base + (uint32_t)((h >> 8) % ((1u << 17) / size)) * size, e = s + size - 1;
    sfmt(start, 64, "%u.%u.%u.%u", s >> 24, s >> 16 & 255, s >> 8 & 255, s & 255);
    sfmt(end, 64, "%u.%u.%u.%u", e >> 24, e >> 16 & 255, e >> 8 & 255, e & 255);
    sfmt(handle, hsz, "NET-%u-%u-%u-%u-%u", s >> 24, s >> 16 & 255, s >> 8 & 255, s & 255,
         key + 1);
}

static void vary_case(rng_t *r, char *s)
{
    uint32_t v = rng_below(r, 100);
    if (v < 7) {
        upper_ascii(s);
    } else if (v < 13) {
        int start = 1;
        for (; *s; s++) {
            if (start && *s >= 'a' && *s <= 'z')
                *s = (char)(*s - 'a' + 'A');
            start = *s == '-' || *s == '.';
        }
    }
}

static void cjk_label(rng_t *r, int reg, char *buf, size_t n, unsigned k)
{
    const wlist_t *l = reg == REG_JA ? &w_idn_ja : reg == REG_ZH ? &w_idn_zh : &w_idn_ko;
    unsigned a = rng_below(r, l->n), b = (a + 1 + rng_below(r, l->n - 1)) % l->n;
    sfmt(buf, n, "%s%s%u", l->v[a], l->v[b], k);
}

static void domain_ident(rng_t *r, ident_t *id)
{
    char ulabel[160], alabel[200];
    int reg = rng_chance(r, 0.88) ? REG_EXAMPLE : REG_TEST;
    unsigned k = id->key + 1;
    id->idn = rng_chance(r, 0.12);
    if (id->idn) {
        uint32_t s = rng_below(r, 100);
        if (s < 45)
            sfmt(ulabel, sizeof ulabel, "%s-%s-%u", pick(r, &w_idn_latin), pick(r, &w_idn_latin), k);
        else if (s < 84)
            reg = s < 60 ? REG_JA : s < 72 ? REG_ZH : REG_KO, cjk_label(r, reg, ulabel, sizeof ulabel, k);
        else if (s < 92)
            reg = REG_RU, sfmt(ulabel, sizeof ulabel, "%s-%u", pick(r, &w_idn_ru), k);
        else
            reg = REG_EL, sfmt(ulabel, sizeof ulabel, "%s-%u", pick(r, &w_idn_el), k);
        if (idna_label(ulabel, alabel, sizeof alabel) != 0)
            sfmt(alabel, sizeof alabel, "idn-%u", k);
    } else {
        const char *a = pick(r, &w_adj), *n = pick(r, &w_noun);
        switch (rng_below(r, 4)) {
        case 0: sfmt(alabel, sizeof alabel, "%s-%s-%u", a, n, k); break;
        case 1: sfmt(alabel, sizeof alabel, "%s%s%u", a, n, k); break;
        case 2: sfmt(alabel, sizeof alabel, "%s-%s%u", a, n, k); break;
        default: sfmt(alabel, sizeof alabel, "%s-%u", n, k);
        }
    }
    id->registry = &registries[reg];
    sfmt(id->lower, sizeof id->lower, "%s.%s", alabel, id->registry->tld_ascii);
    if (id->idn)
        sfmt(id->uname, sizeof id->uname, "%s.%s", ulabel, id->registry->tld_unicode);
    sfmt(id->ldh, sizeof id->ldh, "%s", id->lower);
    vary_case(r, id->ldh);
    sfmt(id->handle, sizeof id->handle, "D%u-%s", scramble(id->key), id->registry->handle_suffix);
}

void ident_make(const genopts_t *o, uint32_t key, ident_t *id)
{
    rng_t r;
    rng_seed(&r, o->seed, key, 0x1de7, 0);
    memset(id, 0, sizeof *id);
    id->key = key;
    id->cls = CLS_DOMAIN;
    if (o->mixed) {
        uint32_t v = rng_below(&r, 100);
        id->cls = v < 70 ? CLS_DOMAIN : v < 80 ? CLS_ENTITY : v < 92 ? CLS_NAMESERVER
                : v < 97 ? CLS_IP : CLS_AUTNUM;
    }
    id->registry = &registries[REG_EXAMPLE];
    id->registrar = &registrars[rng_below(&r, n_registrars)];
    id->country = pick_country(&r);
    id->created_ms = RG_BASE_MS - (int64_t)rng_range(&r, 30, 29 * 365) * 86400000 -
                     (int64_t)rng_below(&r, 86400000);
    id->size_jitter = 0.92 + 0.16 * rng_unit(&r);
    id->variant = (int)rng_below(&r, 2);
    char start[64], end[64];
    int v6, plen;
    switch (id->cls) {
    case CLS_DOMAIN: domain_ident(&r, id); break;
    case CLS_NAMESERVER:
        sfmt(id->lower, sizeof id->lower, "ns%d.%s-%s-%u.example", rng_range(&r, 1, 4),
             pick(&r, &w_host_a), pick(&r, &w_host_b), key + 1);
        sfmt(id->ldh, sizeof id->ldh, "%s", id->lower);
        vary_case(&r, id->ldh);
        sfmt(id->handle, sizeof id->handle, "H%u-EXAMPLE", scramble(key));
        break;
    case CLS_ENTITY:
        if (id->variant == 0)
            sfmt(id->handle, sizeof id->handle, "C%u-EXAMPLE", scramble(key));
        else
            sfmt(id->handle, sizeof id->handle, "ORG-%.4s%u-RIR", id->registrar->slug, key + 1);
        upper_ascii(id->handle);
        break;
    case CLS_IP: ip_block(key, &v6, start, end, &plen, id->handle, sizeof id->handle); break;
    default: sfmt(id->handle, sizeof id->handle, "AS%u", 4200000000u + key % 94967294u);
    }
}

/* ---- pieces shared by all classes ---- */

static void emit_conformance(jw_t *w, const char *const *v, int n, const char *extra)
{
    jw_key(w, "rdapConformance");
    jw_arr(w);
    for (int i = 0; i < n; i++)
        jw_str(w, v[i]);
    if (extra)
        jw_str(w, extra);
    jw_end_arr(w);
}

static void emit_notice(jw_t *w, const char *title, const char *d1, const char *d2,
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

static void emit_terms(jw_t *w, gctx_t *g, const char *host)
{
    char href[200];
    sfmt(href, sizeof href, "https://www.%s/rdap-terms", host);
    emit_notice(w, "Terms of Use", "Service subject to Terms of Use.",
                g->id->registry == &registries[REG_JA] ? "利用規約に従ってご利用ください。"
                : g->ccname ? "Service soumis aux conditions d'utilisation." : NULL,
                g->self_url, "terms-of-service", href);
}

static void emit_status(jw_t *w, rng_t *r, const int *idx, int n, int style)
{
    jw_key(w, "status");
    jw_arr(w);
    for (int i = 0; i < n; i++) {
        int epp = style == 1 || (style == 2 && rng_chance(r, 0.5));
        jw_str(w, epp ? statuses[idx[i]].epp : statuses[idx[i]].rdap);
    }
    jw_end_arr(w);
}

static void gctx_init(gctx_t *g, const genopts_t *o, const ident_t *id, uint32_t rev,
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

static void emit_ip_addresses(jw_t *w, rng_t *r, int v4, int v6)
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

static void emit_remark(jw_t *w, gctx_t *g, const char *title, const char *const *desc, int nd,
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

static void gen_domain(jw_t *w, const genopts_t *o, const ident_t *id, uint32_t rev, int64_t ts)
{
    gctx_t g;
    gctx_init(&g, o, id, rev, ts, "domain", id->lower);
    rng_t kr;
    rng_seed(&kr, o->seed, id->key, 0xd0, 0);
    size_t start = w->len;
    size_t target = (size_t)((double)o->size * id->size_jitter);
    g.lean = target >= 3400 ? 0 : target >= 2700 ? 1 : target >= 2000 ? 2 : 3;
    jw_reset(&scratch);
    emit_domain_notices(&scratch, &g);
    size_t tail = scratch.len + sizeof ",\"notices\":}" - 1;
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
    emit_secure_dns(w, &kr);
    domain_entities(w, &g, &kr, budget);
    emit_padding(w, &g, &kr, st, nst, budget);
    jw_key(w, "notices");
    jw_raw(w, scratch.buf, scratch.len);
    jw_end_obj(w);
}

/* ---- other classes (--classes mixed) ---- */

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
