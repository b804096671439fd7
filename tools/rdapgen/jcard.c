/* jCard (RFC 7095) entities: contacts in the forms real RDAP servers send,
 * the registrar with its abuse contact, events and links. Each contact has a
 * uid (key, slot, epoch) that its email and phone numbers are derived from,
 * so they are unique within a data set and tests can grep a sink for leaks. */
#include "rdapgen.h"

#include <stdio.h>
#include <string.h>

/* ["adr", {cc, label?, type?}, "text", [pobox, ext, street, city, region, code, country]] */
static void emit_adr(jw_t *w, gctx_t *g, rng_t *r, const country_t *c, const addr_t *a, const char *type)
{
    double x = g->lean >= 4 ? 0.0 : 1.0;
    int label = rng_chance(r, 0.25 * x), label_only = rng_chance(r, 0.03 * x);
    int street_arr = a->unit[0] && rng_chance(r, 0.3);
    jw_arr(w);
    jw_str(w, "adr");
    jw_obj(w);
    if (!g->ccname || rng_chance(r, 0.5))
        jw_kstr(w, "cc", c->cc);
    if (type)
        jw_kstr(w, "type", type);
    if (label || label_only) {
        char buf[512];
        address_label(c, a, buf, sizeof buf);
        jw_kstr(w, "label", buf);
    }
    jw_end_obj(w);
    jw_str(w, "text");
    jw_arr(w);
    if (label_only) {
        for (int i = 0; i < 7; i++)
            jw_str(w, "");
    } else {
        jw_str(w, a->pobox);
        jw_str(w, street_arr ? "" : a->unit);
        if (street_arr) {
            jw_arr(w);
            jw_str(w, a->street);
            jw_str(w, a->unit);
            jw_end_arr(w);
        } else {
            jw_str(w, a->street);
        }
        jw_str(w, a->city);
        jw_str(w, a->region);
        jw_str(w, a->postal);
        jw_str(w, g->ccname ? c->name : "");
    }
    jw_end_arr(w);
    jw_end_arr(w);
}

/* ["tel", {"type": ...}, "uri"|"text", value] */
static void emit_tel(jw_t *w, gctx_t *g, rng_t *r, const country_t *c, uint64_t uid, int fax)
{
    int text = (int)rng_below(r, 100) < g->tel_text;
    char num[64];
    phone_number(num, sizeof num, c, uid, text ? rng_range(r, 1, 4) : 0);
    if (!text && !fax && rng_chance(r, 0.12)) {
        size_t l = strlen(num);
        sfmt(num + l, sizeof num - l, ";ext=%d", rng_range(r, 1, 999));
    }
    jw_arr(w);
    jw_str(w, "tel");
    jw_obj(w);
    jw_key(w, "type");
    uint32_t form = rng_below(r, 20);
    if (fax) {
        if (form < 14)
            jw_str(w, "fax");
        else {
            jw_arr(w);
            jw_str(w, "fax");
            jw_end_arr(w);
        }
    } else if (form < 11) {
        jw_str(w, "voice");
    } else {
        jw_arr(w);
        if (form < 14) {
            jw_str(w, "voice");
        } else if (form < 17) {
            jw_str(w, "voice");
            jw_str(w, "work");
        } else {
            jw_str(w, "work");
            jw_str(w, "voice");
        }
        jw_end_arr(w);
        if (form >= 17)
            jw_kstr(w, "pref", "1");
    }
    jw_end_obj(w);
    jw_str(w, text ? "text" : "uri");
    jw_str(w, num);
    jw_end_arr(w);
}

static void email_address(rng_t *r, const gctx_t *g, const person_t *p, const char *org,
                          uint64_t uid, char *buf, size_t n)
{
    static const char *const roles[] = {"hostmaster", "info", "domains", "admin", "it", "office"};
    char gs[64], fs[64], os[64], local[160];
    unsigned long long id = 100000 + (unsigned long long)uid;
    if (p) {
        ascii_slug(p->given_r, gs, sizeof gs, 0);
        ascii_slug(p->family_r, fs, sizeof fs, 0);
        switch (rng_below(r, 5)) {
        case 0: sfmt(local, sizeof local, "%s.%s.%llu", gs, fs, id); break;
        case 1: sfmt(local, sizeof local, "%.1s%s%llu", gs, fs, id); break;
        case 2: sfmt(local, sizeof local, "%s.%s.%llu", fs, gs, id); break;
        case 3: sfmt(local, sizeof local, "%s_%llu", gs, id); break;
        default: sfmt(local, sizeof local, "%s.%s%llu", gs, fs, id);
        }
    } else {
        sfmt(local, sizeof local, "%s.%llu", roles[rng_below(r, 6)], id);
    }
    ascii_slug(org, os, sizeof os, '-');
    uint32_t d = rng_below(r, 10);
    if (d < 3 && g->id->cls == CLS_DOMAIN && !g->id->idn)
        sfmt(buf, n, "%s@%s", local, g->id->lower);
    else if (d < 6 && os[0] && !p)
        sfmt(buf, n, "%s@%s.example", local, os);
    else
        sfmt(buf, n, "%s@%s", local, pick(r, &w_mail_domains));
}

static void emit_names(jw_t *w, rng_t *r, const country_t *c, const person_t *p, double x)
{
    if (p->fn_latin[0] && rng_chance(r, 0.5)) {
        const char *const tags[2] = {c->lang_tag, "en"};
        const char *const vals[2] = {p->fn, p->fn_latin};
        for (int i = 0; i < 2; i++) {
            jw_arr(w);
            jw_str(w, "fn");
            jw_obj(w);
            jw_kstr(w, "language", tags[i]);
            jw_kstr(w, "altid", "1");
            jw_end_obj(w);
            jw_str(w, "text");
            jw_str(w, vals[i]);
            jw_end_arr(w);
        }
    } else if (p->fn_latin[0]) {
        jw_arr(w);
        jw_str(w, "fn");
        jw_obj(w);
        jw_kstr(w, "language", c->lang_tag);
        jw_end_obj(w);
        jw_str(w, "text");
        jw_str(w, p->fn);
        jw_end_arr(w);
    } else {
        jw_prop(w, "fn", "text", p->fn);
    }
    if (rng_chance(r, 0.35 * x)) {
        jw_arr(w);
        jw_str(w, "n");
        jw_obj(w);
        jw_end_obj(w);
        jw_str(w, "text");
        jw_arr(w);
        jw_str(w, p->family);
        jw_str(w, p->given);
        jw_str(w, p->middle); /* additional names */
        jw_str(w, p->prefix);
        jw_str(w, "");
        jw_end_arr(w);
        jw_end_arr(w);
    }
}

static void emit_org(jw_t *w, rng_t *r, const char *org)
{
    if (rng_chance(r, 0.1)) {
        jw_arr(w);
        jw_str(w, "org");
        jw_obj(w);
        jw_kstr(w, "type", "work");
        jw_end_obj(w);
        jw_str(w, "text");
        jw_arr(w);
        jw_str(w, org);
        jw_str(w, rng_chance(r, 0.5) ? "IT Department" : "Operations");
        jw_end_arr(w);
        jw_end_arr(w);
    } else {
        jw_prop(w, "org", "text", org);
    }
}

static void emit_email(jw_t *w, const char *type, const char *addr)
{
    jw_arr(w);
    jw_str(w, "email");
    jw_obj(w);
    if (type) {
        jw_kstr(w, "type", type);
        if (strcmp(type, "work") == 0)
            jw_kstr(w, "pref", "1");
    }
    jw_end_obj(w);
    jw_str(w, "text");
    jw_str(w, addr);
    jw_end_arr(w);
}

void emit_contact(jw_t *w, gctx_t *g, const contact_spec_t *cs)
{
    jw_obj(w);
    emit_contact_members(w, g, cs);
    jw_end_obj(w);
}

void emit_contact_members(jw_t *w, gctx_t *g, const contact_spec_t *cs)
{
    const ident_t *id = g->id;
    rng_t r;
    rng_seed(&r, g->o->seed, id->key, 0xc0417ac7u + (uint64_t)cs->slot, cs->epoch);
    double x = g->lean >= 4 ? 0.0 : 1.0; /* scales the odds of optional properties */
    uint64_t uid = ((uint64_t)id->key * 16 + (uint64_t)cs->slot) * 16 + (cs->epoch % 16);
    /* dense index for phone numbers: 5 slots x 2 epochs x 3 numbers per key */
    uint64_t puid = (((uint64_t)id->key * 5 + (uint64_t)(cs->slot < 4 ? cs->slot : 4)) * 2 +
                     (cs->epoch & 1)) * 3 + g->salt;
    const country_t *c = cs->country ? cs->country
                         : rng_chance(&r, 0.7) ? id->country
                                               : pick_country(&r);
    person_t p;
    person_make(&r, c, &p);
    char org[160] = "";
    if (cs->org)
        sfmt(org, sizeof org, "%s", cs->org);
    else if (cs->kind != KIND_INDIVIDUAL || rng_chance(&r, 0.4 * x))
        org_name(&r, c, org, sizeof org);
    addr_t a;
    address_make(&r, c, &a);

    jw_kstr(w, "objectClassName", "entity");
    if (cs->handle) {
        jw_kstr(w, "handle", cs->handle);
    } else if (rng_chance(&r, 0.92)) {
        jw_key(w, "handle");
        jw_strf(w, "C%llu-%s", (unsigned long long)(10000000 + uid), id->registry->handle_suffix);
    }
    jw_key(w, "roles");
    jw_arr(w);
    for (int i = 0; i < cs->nroles; i++)
        jw_str(w, cs->roles[i]);
    jw_end_arr(w);

    jw_key(w, "vcardArray");
    jw_arr(w);
    jw_str(w, "vcard");
    jw_arr(w);
    jw_prop(w, "version", "text", "4.0");
    static const char *const kinds[] = {"individual", "org", "group"};
    if (cs->kind != KIND_INDIVIDUAL || rng_chance(&r, 0.9))
        jw_prop(w, "kind", "text", kinds[cs->kind]);
    if (cs->kind == KIND_INDIVIDUAL) {
        emit_names(w, &r, c, &p, x);
    } else if (cs->kind == KIND_GROUP) {
        char fn[200];
        sfmt(fn, sizeof fn, "%.150s %s", org, strcmp(cs->roles[0], "abuse") ? "NOC" : "Abuse Team");
        jw_prop(w, "fn", "text", fn);
    } else {
        jw_prop(w, "fn", "text", org);
    }
    if (org[0] && cs->kind != KIND_GROUP)
        emit_org(w, &r, org);
    if (cs->kind == KIND_INDIVIDUAL && rng_chance(&r, 0.08 * x))
        jw_prop(w, rng_chance(&r, 0.5) ? "title" : "role", "text", pick(&r, &w_titles));
    if (rng_chance(&r, 0.08 * x)) {
        jw_arr(w);
        jw_str(w, "lang");
        jw_obj(w);
        jw_kstr(w, "pref", "1");
        jw_end_obj(w);
        jw_str(w, "language-tag");
        jw_str(w, c->lang_tag);
        jw_end_arr(w);
    }
    if (cs->kind != KIND_GROUP)
        emit_adr(w, g, &r, c, &a, rng_chance(&r, 0.05 * x) ? "work" : NULL);
    emit_tel(w, g, &r, c, puid, 0);
    if (cs->kind != KIND_GROUP && rng_chance(&r, 0.45 * x))
        emit_tel(w, g, &r, c, puid + 1, 1);
    char mail[256], mail2[256];
    const person_t *who = cs->kind == KIND_INDIVIDUAL ? &p : NULL;
    email_address(&r, g, who, org, uid, mail, sizeof mail);
    int two = rng_chance(&r, 0.15 * x);
    emit_email(w, two ? "work" : NULL, mail);
    if (two) {
        email_address(&r, g, who, org, uid + 1, mail2, sizeof mail2);
        emit_email(w, "home", mail2);
    }
    if (rng_chance(&r, 0.06 * x)) {
        char uri[300];
        sfmt(uri, sizeof uri, "mailto:%s", two ? mail2 : mail);
        jw_prop(w, "contact-uri", "uri", uri);
    }
    if (rng_chance(&r, 0.03 * x)) {
        char geo[64];
        sfmt(geo, sizeof geo, "geo:%.3f,%.3f", rng_unit(&r) * 120 - 50, rng_unit(&r) * 340 - 170);
        jw_prop(w, "geo", "uri", geo);
    }
    if (rng_chance(&r, 0.04 * x)) {
        char tel[64], note[400];
        phone_number(tel, sizeof tel, c, puid + 2, 1);
        sfmt(note, sizeof note, "Prefers calls after 6pm on %s; mail to %s only.", tel, a.street);
        jw_prop(w, "note", "text", note);
    }
    jw_end_arr(w);
    jw_end_arr(w);

    if (cs->with_events && rng_chance(&r, 0.6)) {
        jw_key(w, "events");
        jw_arr(w);
        emit_event(w, g, "last changed", g->ts_ms - (int64_t)rng_below(&r, 900) * 86400000);
        jw_end_arr(w);
    }
    if (cs->nroles > 1 && rng_chance(&r, 0.5)) {
        jw_key(w, "remarks");
        jw_arr(w);
        jw_obj(w);
        jw_key(w, "description");
        jw_arr(w);
        jw_str(w, "Contact acts for both administrative and technical matters.");
        jw_end_arr(w);
        jw_end_obj(w);
        jw_end_arr(w);
    }
}

void emit_event(jw_t *w, gctx_t *g, const char *action, int64_t ms)
{
    char d[32];
    fmt_date(d, ms, g->date_style);
    jw_obj(w);
    jw_kstr(w, "eventAction", action);
    jw_kstr(w, "eventDate", d);
    jw_end_obj(w);
}

void emit_link(jw_t *w, const char *value, const char *rel, const char *href, const char *type)
{
    jw_obj(w);
    jw_kstr(w, "value", value);
    jw_kstr(w, "rel", rel);
    jw_kstr(w, "href", href);
    jw_kstr(w, "type", type);
    jw_end_obj(w);
}

/* The registrar is public data: the same for all its domains. */
void emit_registrar(jw_t *w, gctx_t *g, int detail, const contact_spec_t *reseller_tech)
{
    const registrar_t *rr = g->id->registrar;
    unsigned idx = (unsigned)(rr - registrars);
    const country_t *c = &countries[0];
    for (unsigned i = 0; i < n_countries; i++)
        if (strcmp(countries[i].cc, rr->cc) == 0)
            c = &countries[i];
    rng_t r;
    rng_seed(&r, 0x5eed, idx, 0, 0); /* independent of --seed: registrars are fixed */
    addr_t a;
    address_make(&r, c, &a);
    char url[160], tel[64], buf[200];
    sfmt(url, sizeof url, "https://www.%s.example", rr->slug);

    jw_obj(w);
    jw_kstr(w, "objectClassName", "entity");
    jw_key(w, "handle");
    jw_strf(w, "%d", rr->iana);
    jw_key(w, "roles");
    jw_arr(w);
    jw_str(w, "registrar");
    jw_end_arr(w);
    jw_key(w, "publicIds");
    jw_arr(w);
    jw_obj(w);
    jw_kstr(w, "type", "IANA Registrar ID");
    jw_key(w, "identifier");
    jw_strf(w, "%d", rr->iana);
    jw_end_obj(w);
    jw_end_arr(w);
    jw_key(w, "vcardArray");
    jw_arr(w);
    jw_str(w, "vcard");
    jw_arr(w);
    jw_prop(w, "version", "text", "4.0");
    jw_prop(w, "fn", "text", rr->name);
    if (detail >= 2) {
        if (idx % 3 == 0)
            jw_prop(w, "kind", "text", "org");
        int save = g->ccname;
        g->ccname = 0;
        emit_adr(w, g, &r, c, &a, NULL);
        g->ccname = save;
        registrar_phone(tel, sizeof tel, c, idx * 2);
        jw_arr(w);
        jw_str(w, "tel");
        jw_obj(w);
        jw_kstr(w, "type", "voice");
        jw_end_obj(w);
        jw_str(w, "uri");
        jw_str(w, tel);
        jw_end_arr(w);
        jw_prop(w, "url", "uri", url);
    }
    jw_end_arr(w);
    jw_end_arr(w);
    if (detail >= 2) {
        jw_key(w, "links");
        jw_arr(w);
        emit_link(w, g->self_url, "about", url, "text/html");
        jw_end_arr(w);
    }
    if (detail >= 1) {
        jw_key(w, "entities");
        jw_arr(w);
        jw_obj(w);
        jw_kstr(w, "objectClassName", "entity");
        jw_key(w, "roles");
        jw_arr(w);
        jw_str(w, "abuse");
        jw_end_arr(w);
        jw_key(w, "vcardArray");
        jw_arr(w);
        jw_str(w, "vcard");
        jw_arr(w);
        jw_prop(w, "version", "text", "4.0");
        sfmt(buf, sizeof buf, idx % 2 ? "Abuse Desk" : "%.150s Abuse", rr->name);
        jw_prop(w, "fn", "text", buf);
        registrar_phone(tel, sizeof tel, c, idx * 2 + 1);
        jw_arr(w);
        jw_str(w, "tel");
        jw_obj(w);
        jw_kstr(w, "type", "voice");
        jw_end_obj(w);
        jw_str(w, "uri");
        jw_str(w, tel);
        jw_end_arr(w);
        sfmt(buf, sizeof buf, "abuse@%s.example", rr->slug);
        jw_prop(w, "email", "text", buf);
        jw_end_arr(w);
        jw_end_arr(w);
        jw_end_obj(w);
        if (reseller_tech) {
            jw_obj(w);
            jw_kstr(w, "objectClassName", "entity");
            jw_key(w, "handle");
            jw_strf(w, "RS-%u", 1000 + (unsigned)(g->id->key % 7919));
            jw_key(w, "roles");
            jw_arr(w);
            jw_str(w, "reseller");
            jw_end_arr(w);
            jw_key(w, "vcardArray");
            jw_arr(w);
            jw_str(w, "vcard");
            jw_arr(w);
            jw_prop(w, "version", "text", "4.0");
            jw_prop(w, "kind", "text", "org");
            rng_t rs;
            rng_seed(&rs, g->o->seed, g->id->key, 0x7e5e11e7, 0);
            org_name(&rs, c, buf, sizeof buf);
            jw_prop(w, "fn", "text", buf);
            jw_end_arr(w);
            jw_end_arr(w);
            jw_key(w, "entities");
            jw_arr(w);
            emit_contact(w, g, reseller_tech);
            jw_end_arr(w);
            jw_end_obj(w);
        }
        jw_end_arr(w);
    }
    jw_end_obj(w);
}
