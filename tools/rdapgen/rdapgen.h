/* rdapgen: deterministic synthetic RDAP (RFC 9083) data generator.
 * Shared declarations of the generator's parts:
 *   util.c     JSON writer, PRNG, dates, UTF-8 and punycode helpers
 *   words.c    word lists, countries, registries, registrars
 *   jcard.c    jCard contacts, the registrar entity, events, links
 *   people.c   names, organisations, addresses, phone numbers
 *   ident.c    identities of keys (class, handle, names)
 *   objects.c  entity, nameserver, ip network and autnum objects; shared pieces
 *   domain.c   domain objects, padded to --size
 *   rdapgen.c  command line, envelope schedule, expected final state
 *   regions.c  --regions: per-region streams with version vectors, heads
 */
#ifndef RDAPGEN_H
#define RDAPGEN_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define RG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define RG_PRINTF(f, a)
#endif

/* ---- JSON writer: appends compact JSON to a growable buffer ---- */

#define JW_MAX_DEPTH 64

typedef struct {
    char *buf;
    size_t len, cap;
    int depth;
    int after_key;
    unsigned char first[JW_MAX_DEPTH];
} jw_t;

/* A point to return to: lets the generator try an optional part and drop it
 * again when it would overrun the size budget. */
typedef struct {
    size_t len;
    int depth, after_key;
    unsigned char first;
} jw_mark_t;

void jw_init(jw_t *w);
void jw_free(jw_t *w);
void jw_reset(jw_t *w);
void jw_obj(jw_t *w);
void jw_end_obj(jw_t *w);
void jw_arr(jw_t *w);
void jw_end_arr(jw_t *w);
void jw_key(jw_t *w, const char *k);
void jw_str(jw_t *w, const char *s);
void jw_strn(jw_t *w, const char *s, size_t n);
void jw_strf(jw_t *w, const char *fmt, ...) RG_PRINTF(2, 3);
void jw_int(jw_t *w, int64_t v);
void jw_bool(jw_t *w, int v);
void jw_null(jw_t *w);
/* A ready-made JSON value (e.g. another writer's buffer). */
void jw_raw(jw_t *w, const char *s, size_t n);
void jw_kstr(jw_t *w, const char *k, const char *s);
void jw_kint(jw_t *w, const char *k, int64_t v);
jw_mark_t jw_mark(const jw_t *w);
void jw_rollback(jw_t *w, jw_mark_t m);
/* jCard property with empty parameters: [name, {}, type, value] */
void jw_prop(jw_t *w, const char *name, const char *type, const char *value);

/* ---- PRNG: splitmix64; every stream is seeded from (seed, ids...) ---- */

typedef struct {
    uint64_t s;
} rng_t;

uint64_t mix64(uint64_t x);
void rng_seed(rng_t *r, uint64_t a, uint64_t b, uint64_t c, uint64_t d);
uint64_t rng_next(rng_t *r);
uint32_t rng_below(rng_t *r, uint32_t n); /* 0 <= v < n; n > 0 */
int rng_range(rng_t *r, int lo, int hi);  /* lo <= v <= hi */
int rng_chance(rng_t *r, double p);
double rng_unit(rng_t *r);

/* ---- text helpers ---- */

typedef struct {
    const char *const *v;
    unsigned n;
} wlist_t;

const char *pick(rng_t *r, const wlist_t *l);

/* RFC 3339 date of a Unix time in milliseconds: style 0 "…Z",
 * 1 "….123Z", 2 "…+00:00". buf needs 32 bytes. */
void fmt_date(char *buf, int64_t ms, int style);
int64_t days_from_civil(int y, unsigned m, unsigned d);
void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);
/* Same month/day/time, `years` later (29 Feb becomes 28 Feb). */
int64_t add_years(int64_t ms, int years);

/* Punycode (RFC 3492) of one lower-case UTF-8 label; "xn--" prefixed when
 * non-ASCII, copied as is otherwise. Returns 0 on success. */
int idna_label(const char *utf8, char *out, size_t outsz);
/* ASCII slug of UTF-8 text: lower case letters and digits, accents folded,
 * other characters dropped, `sep` (if not 0) between words. */
void ascii_slug(const char *utf8, char *out, size_t outsz, char sep);
void upper_ascii(char *s);
/* snprintf that never fails the build on truncation warnings. */
void sfmt(char *buf, size_t n, const char *fmt, ...) RG_PRINTF(3, 4);

/* ---- reference data (words.c) ---- */

enum { L_EN, L_DE, L_FR, L_IT, L_ES, L_NL, L_SV, L_NO, L_PL, L_PT, L_JA, L_ZH, L_KO, L_COUNT };

typedef struct {
    const char *cc, *name, *lang_tag;
    int lang;
    const char *phone_cc, *area;
    int nlocal;              /* digits after the area code */
    const char *postal;      /* pattern: 9 digit, A letter */
    wlist_t cities, regions; /* same length, picked together */
    const char *org_suffix;
    int weight;
} country_t;

extern const country_t countries[];
extern const unsigned n_countries;

typedef struct {
    const char *tld_ascii, *tld_unicode, *handle_suffix, *host;
    int cctld_style;
} registry_t;

enum { REG_EXAMPLE, REG_TEST, REG_JA, REG_ZH, REG_KO, REG_RU, REG_EL, REG_COUNT };
extern const registry_t registries[];

typedef struct {
    const char *name, *slug, *cc;
    int iana;
    int status_style; /* 0 "client transfer prohibited", 1 "clientTransferProhibited", 2 mixed */
    int date_style;   /* see fmt_date */
    int tel_text;     /* percent of contact phones sent as free text */
} registrar_t;

extern const registrar_t registrars[];
extern const unsigned n_registrars;

extern const wlist_t w_adj, w_noun, w_host_a, w_host_b;
extern const wlist_t w_idn_latin, w_idn_ja, w_idn_zh, w_idn_ko, w_idn_ru, w_idn_el;
extern const wlist_t w_first[L_COUNT], w_last[L_COUNT];
extern const wlist_t w_last_a, w_last_mid, w_last_b;
extern const wlist_t w_ja_family, w_ja_family_r, w_ja_given1, w_ja_given1_r, w_ja_given2,
    w_ja_given2_r, w_zh_family, w_zh_family_r, w_zh_given, w_zh_given_r, w_ko_family,
    w_ko_family_r, w_ko_syl, w_ko_syl_r;
extern const wlist_t w_street_a[L_COUNT], w_street_b[L_COUNT], w_street_unit[L_COUNT];
extern const wlist_t w_org_b, w_org_ja, w_org_zh, w_org_ko, w_titles, w_mail_domains;

/* Status values: RFC 8056 spelling and EPP spelling, same index. */
typedef struct {
    const char *rdap, *epp, *explain;
} status_t;
extern const status_t statuses[];
extern const unsigned n_statuses;
int status_index(const char *rdap);

typedef struct {
    const char *title;
    const char *desc[3];
    const char *href; /* may be NULL */
} remark_t;
extern const remark_t pad_remarks[];
extern const unsigned n_pad_remarks;

/* ---- objects ---- */

enum { CLS_DOMAIN, CLS_ENTITY, CLS_NAMESERVER, CLS_IP, CLS_AUTNUM };

typedef struct {
    uint64_t seed;
    int mixed;   /* --classes mixed */
    size_t size; /* target size of a domain object */
} genopts_t;

/* What stays the same across all versions of one key. */
typedef struct {
    uint32_t key;
    int cls;
    const registry_t *registry;
    const registrar_t *registrar;
    const country_t *country; /* registrant's country */
    int idn;
    char handle[64];
    char ldh[256];   /* as sent (case varies) */
    char lower[256]; /* lower-case ldhName */
    char uname[256]; /* unicodeName, "" if none */
    int64_t created_ms;
    double size_jitter;
    int variant; /* class-specific flavour */
} ident_t;

/* 2026-01-01T00:00:00Z: versions are stamped around this time. */
#define RG_BASE_MS 1767225600000LL

/* regions.c: --regions N writes DIR/region-1.jsonl .. region-N.jsonl and
 * DIR/expected.jsonl (docs/generator.md). */
#define RG_MAX_REGIONS 64
typedef struct {
    unsigned regions;
    double conflict_rate;
    long long count, keys;
    const char *dir;
    const char *priority; /* comma-separated region names, NULL: region-1..N */
    int stats;
} regions_opts_t;
void run_regions(const regions_opts_t *ro, const genopts_t *o);

/* ident.c */
void ident_make(const genopts_t *o, uint32_t key, ident_t *id);
/* The network of an ip-network key: 198.18.0.0/15 blocks or 2001:db8::/48s. */
void ip_block(uint32_t key, int *v6, char *start, char *end, int *plen, char *handle,
              size_t hsz);
/* objects.c: writes one RDAP object, version `rev` of key id->key, last
 * changed at ts_ms. The same arguments always give the same bytes. */
void gen_object(jw_t *w, const genopts_t *o, const ident_t *id, uint32_t rev, int64_t ts_ms);

/* ---- people, addresses, phones (people.c) ---- */

typedef struct {
    char fn[128];       /* native script */
    char fn_latin[128]; /* romanised, "" when fn is Latin already */
    char family[64], given[64], middle[64];
    char family_r[64], given_r[64]; /* romanised forms, for emails */
    char prefix[8];
} person_t;

typedef struct {
    char pobox[32], street[160], unit[64], city[64], region[64], postal[16];
} addr_t;

const country_t *pick_country(rng_t *r);
void person_make(rng_t *r, const country_t *c, person_t *p);
void org_name(rng_t *r, const country_t *c, char *buf, size_t n);
void address_make(rng_t *r, const country_t *c, addr_t *a);
void address_label(const country_t *c, const addr_t *a, char *buf, size_t n);
/* Numbers below PHONE_RESERVED (per country) are left to registrars; a
 * contact's index maps one-to-one onto the rest until it wraps. text_form 0
 * is the "tel:" URI, 1..4 free-text spellings. */
#define PHONE_RESERVED 1000
void phone_number(char *buf, size_t n, const country_t *c, uint64_t index, int text_form);
void registrar_phone(char *buf, size_t n, const country_t *c, unsigned index);

/* ---- jCard (jcard.c) ---- */

/* Per-object generation context. */
typedef struct {
    const genopts_t *o;
    const ident_t *id;
    rng_t r;        /* the version's stream */
    int date_style; /* RFC 3339 form */
    int tel_text;   /* percent of phones as text */
    int ccname;     /* fill the adr country-name part (ccTLD style) */
    int64_t ts_ms;
    uint32_t rev;
    uint64_t salt; /* from --seed: phone numbers differ between data sets */
    int lean; /* 0..4: how much optional content to leave out for small --size */
    char self_url[400];
    char org[160];     /* RIR objects: the holder's name, shared by its contacts */
    char org_tag[16];  /* upper-case ASCII form of org for names like ORG-NET */
} gctx_t;

enum { KIND_INDIVIDUAL, KIND_ORG, KIND_GROUP };

typedef struct {
    const char *roles[3];
    int nroles;
    int kind;
    int slot;       /* 0..15: which contact of the object (makes PII unique) */
    uint32_t epoch; /* changes when the contact is replaced */
    const country_t *country; /* NULL: pick one */
    int with_events;
    const char *handle; /* NULL: generated (and sometimes left out) */
    const char *org;    /* NULL: generated (always for org/group, sometimes for people) */
} contact_spec_t;

void emit_contact(jw_t *w, gctx_t *g, const contact_spec_t *cs);
/* detail 0: name only; 1: plus abuse contact; 2: plus address, phone, url, links */
void emit_registrar(jw_t *w, gctx_t *g, int detail, const contact_spec_t *reseller_tech);
/* Members of a contact entity, written into an object the caller opened. */
void emit_contact_members(jw_t *w, gctx_t *g, const contact_spec_t *cs);
void emit_event(jw_t *w, gctx_t *g, const char *action, int64_t ms);

/* ---- pieces shared by the object classes (objects.c) ---- */

extern const char *const conf_gtld[3], *const conf_gtld0[3];
void gctx_init(gctx_t *g, const genopts_t *o, const ident_t *id, uint32_t rev, int64_t ts_ms,
               const char *path, const char *name);
void emit_conformance(jw_t *w, const char *const *v, int n, const char *extra);
void emit_notice(jw_t *w, const char *title, const char *d1, const char *d2, const char *self,
                 const char *rel, const char *href);
void emit_terms(jw_t *w, gctx_t *g, const char *host);
/* status tokens by index into statuses[]; style as registrar_t.status_style */
void emit_status(jw_t *w, rng_t *r, const int *idx, int n, int style);
void emit_remark(jw_t *w, gctx_t *g, const char *title, const char *const *desc, int nd,
                 const char *href);
void emit_ip_addresses(jw_t *w, rng_t *r, int v4, int v6);
/* domain.c */
void gen_domain(jw_t *w, const genopts_t *o, const ident_t *id, uint32_t rev, int64_t ts);
void emit_link(jw_t *w, const char *value, const char *rel, const char *href, const char *type);

#endif
