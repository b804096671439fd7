/* Identities of keys: what stays the same across all versions of a key
 * (class, handle, names, registrar, registrant country). */
#include "rdapgen.h"

#include <string.h>

static uint32_t scramble(uint32_t key) { return (key + 1u) * 2654435761u; }

void ip_block(uint32_t key, int *v6, char *start, char *end, int *plen, char *handle,
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
