/* People, organisations, postal addresses and phone numbers. The name and
 * street spaces are large so that values are nearly unique across a data set,
 * and phone numbers are a bijection of the contact's index, so tests can grep
 * a sink's output for leaked PII. */
#include "rdapgen.h"

#include <stdio.h>
#include <string.h>

const country_t *pick_country(rng_t *r)
{
    unsigned total = 0;
    for (unsigned i = 0; i < n_countries; i++)
        total += (unsigned)countries[i].weight;
    uint32_t v = rng_below(r, total);
    for (unsigned i = 0; i < n_countries; i++) {
        if (v < (unsigned)countries[i].weight)
            return &countries[i];
        v -= (unsigned)countries[i].weight;
    }
    return &countries[0];
}

static void cjk_person(rng_t *r, int lang, person_t *p)
{
    if (lang == L_JA) {
        unsigned f = rng_below(r, w_ja_family.n), a = rng_below(r, w_ja_given1.n),
                 b = rng_below(r, w_ja_given2.n);
        sfmt(p->family, sizeof p->family, "%s", w_ja_family.v[f]);
        sfmt(p->family_r, sizeof p->family_r, "%s", w_ja_family_r.v[f]);
        sfmt(p->given, sizeof p->given, "%s%s", w_ja_given1.v[a], w_ja_given2.v[b]);
        sfmt(p->given_r, sizeof p->given_r, "%s%s", w_ja_given1_r.v[a], w_ja_given2_r.v[b]);
        sfmt(p->fn, sizeof p->fn, "%s %s", p->family, p->given);
        sfmt(p->fn_latin, sizeof p->fn_latin, "%s %s", p->given_r, p->family_r);
        return;
    }
    const wlist_t *fam = lang == L_ZH ? &w_zh_family : &w_ko_family;
    const wlist_t *fam_r = lang == L_ZH ? &w_zh_family_r : &w_ko_family_r;
    const wlist_t *syl = lang == L_ZH ? &w_zh_given : &w_ko_syl;
    const wlist_t *syl_r = lang == L_ZH ? &w_zh_given_r : &w_ko_syl_r;
    unsigned f = rng_below(r, fam->n), a = rng_below(r, syl->n), b = rng_below(r, syl->n);
    int two = lang == L_KO || rng_chance(r, 0.9);
    sfmt(p->family, sizeof p->family, "%s", fam->v[f]);
    sfmt(p->family_r, sizeof p->family_r, "%s", fam_r->v[f]);
    sfmt(p->given, sizeof p->given, "%s%s", syl->v[a], two ? syl->v[b] : "");
    sfmt(p->given_r, sizeof p->given_r, "%s%s", syl_r->v[a], two ? syl_r->v[b] : "");
    if (p->given_r[0] >= 'a' && p->given_r[0] <= 'z')
        p->given_r[0] = (char)(p->given_r[0] - 'a' + 'A');
    sfmt(p->fn, sizeof p->fn, "%s%s", p->family, p->given);
    sfmt(p->fn_latin, sizeof p->fn_latin, "%s %s", p->family_r, p->given_r);
}

void person_make(rng_t *r, const country_t *c, person_t *p)
{
    memset(p, 0, sizeof *p);
    int lang = c->lang;
    if (lang == L_JA || lang == L_ZH || lang == L_KO) {
        cjk_person(r, lang, p);
        return;
    }
    /* Some mixing across languages, as in any real registrant base. */
    int gl = rng_chance(r, 0.85) ? lang : (int)rng_below(r, L_JA);
    sfmt(p->given, sizeof p->given, "%s", pick(r, &w_first[gl]));
    if (rng_chance(r, gl == L_EN ? 0.35 : 0.12))
        sfmt(p->middle, sizeof p->middle, "%c.", 'A' + (int)rng_below(r, 26));
    char compound[80];
    sfmt(compound, sizeof compound, "%s%s%s", pick(r, &w_last_a), pick(r, &w_last_mid),
         pick(r, &w_last_b));
    /* Local surnames come double-barrelled only: alone they would repeat. */
    if (rng_chance(r, 0.85))
        sfmt(p->family, sizeof p->family, "%s", compound);
    else if (rng_chance(r, 0.5))
        sfmt(p->family, sizeof p->family, "%s-%s", pick(r, &w_last[gl]), compound);
    else
        sfmt(p->family, sizeof p->family, "%s-%s", compound, pick(r, &w_last[gl]));
    if (rng_chance(r, 0.04))
        sfmt(p->prefix, sizeof p->prefix, "%s", rng_chance(r, 0.5) ? "Dr." : "Prof.");
    if (p->middle[0])
        sfmt(p->fn, sizeof p->fn, "%s %s %s", p->given, p->middle, p->family);
    else
        sfmt(p->fn, sizeof p->fn, "%s %s", p->given, p->family);
    sfmt(p->given_r, sizeof p->given_r, "%s", p->given);
    sfmt(p->family_r, sizeof p->family_r, "%s", p->family);
}

static void capitalised(char *buf, size_t n, const char *word)
{
    sfmt(buf, n, "%s", word);
    if (buf[0] >= 'a' && buf[0] <= 'z')
        buf[0] = (char)(buf[0] - 'a' + 'A');
}

void org_name(rng_t *r, const country_t *c, char *buf, size_t n)
{
    char a[64], b[64];
    switch (c->lang) {
    case L_JA: {
        const char *brand = rng_chance(r, 0.5) ? pick(r, &w_ja_family) : pick(r, &w_idn_ja);
        sfmt(buf, n, "%s%s%s", brand, pick(r, &w_org_ja), c->org_suffix);
        return;
    }
    case L_ZH:
        sfmt(buf, n, "%s%s%s%s有限公司", pick(r, &w_idn_zh), pick(r, &w_zh_given),
             pick(r, &w_zh_given), pick(r, &w_org_zh));
        return;
    case L_KO:
        sfmt(buf, n, "%s %s%s%s", c->org_suffix, pick(r, &w_ko_syl), pick(r, &w_ko_syl),
             pick(r, &w_org_ko));
        return;
    }
    uint32_t form = rng_below(r, 3);
    if (form == 0) {
        capitalised(a, sizeof a, pick(r, &w_adj));
        capitalised(b, sizeof b, pick(r, &w_noun));
        sfmt(buf, n, "%s %s %s %s", a, b, pick(r, &w_org_b), c->org_suffix);
    } else {
        sfmt(a, sizeof a, "%s%s%s", pick(r, &w_last_a), pick(r, &w_last_mid), pick(r, &w_last_b));
        if (form == 1)
            sfmt(buf, n, "%s %s %s", a, pick(r, &w_org_b), c->org_suffix);
        else
            sfmt(buf, n, "%s & %s%s %s %s", a, pick(r, &w_last_a), pick(r, &w_last_b),
                 pick(r, &w_org_b), c->org_suffix);
    }
}

static uint64_t pow10u(int n)
{
    uint64_t m = 1;
    while (n-- > 0)
        m *= 10;
    return m;
}

static void format_phone(char *buf, size_t n, const country_t *c, uint64_t v, int text_form)
{
    char local[24];
    sfmt(local, sizeof local, "%0*llu", c->nlocal, (unsigned long long)v);
    int nanp = strcmp(c->phone_cc, "1") == 0, half = c->nlocal / 2;
    switch (text_form) {
    case 0: sfmt(buf, n, "tel:+%s.%s%s", c->phone_cc, c->area, local); break;
    case 1: sfmt(buf, n, "+%s %s %.*s %s", c->phone_cc, c->area, half, local, local + half); break;
    case 2:
        if (nanp)
            sfmt(buf, n, "(%s) %.3s-%s", c->area, local, local + 3);
        else
            sfmt(buf, n, "0%s %s", c->area, local);
        break;
    case 3: sfmt(buf, n, "+%s.%s.%.*s.%s", c->phone_cc, c->area, half, local, local + half); break;
    default: sfmt(buf, n, "+%s.%s%s", c->phone_cc, c->area, local);
    }
}

void phone_number(char *buf, size_t n, const country_t *c, uint64_t index, int text_form)
{
    uint64_t span = pow10u(c->nlocal) - PHONE_RESERVED;
    /* 7919 is prime and divides no span used here, so this is a bijection */
    uint64_t v = PHONE_RESERVED + (index % span) * 7919 % span;
    format_phone(buf, n, c, v, text_form);
}

void registrar_phone(char *buf, size_t n, const country_t *c, unsigned index)
{
    format_phone(buf, n, c, 100 + index % (PHONE_RESERVED - 100), 0);
}

static void postal_code(rng_t *r, const char *pat, char *out, size_t n)
{
    size_t o = 0;
    for (; *pat && o + 1 < n; pat++) {
        if (*pat == '9')
            out[o++] = (char)('0' + rng_below(r, 10));
        else if (*pat == 'A')
            out[o++] = (char)('A' + rng_below(r, 26));
        else
            out[o++] = *pat;
    }
    out[o] = 0;
}

/* House numbers: plain, or now and then with a letter ("14a", "14 bis"). */
static void house_number(rng_t *r, int lang, int max, char *buf, size_t n)
{
    int num = rng_range(r, 1, max);
    uint32_t v = rng_below(r, 100);
    if (v < 12 && lang == L_FR)
        sfmt(buf, n, "%d %s", num, v < 8 ? "bis" : "ter");
    else if (v < 15 && lang != L_EN)
        sfmt(buf, n, "%d%c", num, 'a' + (int)rng_below(r, 4));
    else
        sfmt(buf, n, "%d", num);
}

void address_make(rng_t *r, const country_t *c, addr_t *a)
{
    static const char *const kanji[] = {"一", "二", "三", "四", "五", "六", "七", "八", "九"};
    memset(a, 0, sizeof *a);
    int lang = c->lang;
    const char *sa = pick(r, &w_street_a[lang]), *sb = pick(r, &w_street_b[lang]);
    char no[24];
    switch (lang) {
    case L_EN: sfmt(a->street, sizeof a->street, "%d %s%s", rng_range(r, 1, 9999), sa, sb); break;
    case L_DE: case L_NL: case L_SV: case L_NO:
        house_number(r, lang, 400, no, sizeof no);
        sfmt(a->street, sizeof a->street, "%s%s %s", sa, sb, no);
        break;
    case L_FR:
        house_number(r, lang, 300, no, sizeof no);
        sfmt(a->street, sizeof a->street, "%s %s %s", no, sa, sb);
        break;
    case L_IT: case L_PL:
        house_number(r, lang, 300, no, sizeof no);
        sfmt(a->street, sizeof a->street, "%s %s %s", sa, sb, no);
        break;
    case L_ES: case L_PT:
        house_number(r, lang, 1999, no, sizeof no);
        sfmt(a->street, sizeof a->street, "%s %s, %s", sa, sb, no);
        break;
    case L_JA:
        sfmt(a->street, sizeof a->street, "%s%s丁目%d番%d号", sa, kanji[rng_below(r, 9)],
             rng_range(r, 1, 40), rng_range(r, 1, 30));
        break;
    case L_ZH: sfmt(a->street, sizeof a->street, "%s%d号", sa, rng_range(r, 1, 2999)); break;
    default: sfmt(a->street, sizeof a->street, "%s %d", sa, rng_range(r, 1, 1999));
    }
    if (rng_chance(r, 0.45))
        sfmt(a->unit, sizeof a->unit, pick(r, &w_street_unit[lang]), rng_range(r, 1, 40));
    if (lang == L_EN && rng_chance(r, 0.04))
        sfmt(a->pobox, sizeof a->pobox, "PO Box %d", rng_range(r, 1, 9999));
    unsigned ci = rng_below(r, c->cities.n);
    sfmt(a->city, sizeof a->city, "%s", c->cities.v[ci]);
    sfmt(a->region, sizeof a->region, "%s", c->regions.v[ci]);
    postal_code(r, c->postal, a->postal, sizeof a->postal);
}

void address_label(const country_t *c, const addr_t *a, char *buf, size_t n)
{
    char head[256] = "";
    if (a->pobox[0])
        sfmt(head, sizeof head, "%s\n", a->pobox);
    if (a->unit[0]) {
        size_t l = strlen(head);
        sfmt(head + l, sizeof head - l, "%s\n", a->unit);
    }
    if (c->lang == L_EN)
        sfmt(buf, n, "%s%s\n%s%s%s %s\n%s", head, a->street, a->city, a->region[0] ? " " : "",
             a->region, a->postal, c->name);
    else
        sfmt(buf, n, "%s%s\n%s %s%s%s\n%s", head, a->street, a->postal, a->city,
             a->region[0] ? " " : "", a->region, c->name);
}
