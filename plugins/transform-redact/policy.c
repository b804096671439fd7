/* Matching rules against contacts; the policy's lifetime. */
#include "policy.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void set_free(string_set *set)
{
    for (size_t i = 0; i < set->count; i++)
        free(set->items[i]);
    free(set->items);
    set->items = NULL;
    set->count = 0;
}

void policy_free(policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->rule_count; i++) {
        rrule *r = &p->rules[i];
        set_free(&r->properties);
        set_free(&r->roles);
        set_free(&r->except_roles);
        set_free(&r->countries);
        set_free(&r->regions);
        free(r->value);
        free(r->reason);
    }
    free(p->rules);
    set_free(&p->organization_roles);
    set_free(&p->public_roles);
    free(p->name);
    free(p->path);
    free(p->reason);
    free(p);
}

static bool set_has(const string_set *set, const char *s)
{
    if (!s)
        return false;
    for (size_t i = 0; i < set->count; i++)
        if (strcasecmp(set->items[i], s) == 0)
            return true;
    return false;
}

static bool any_role_in(const subject *s, const string_set *set)
{
    for (size_t i = 0; i < s->role_count; i++)
        if (set_has(set, s->roles[i]))
            return true;
    return false;
}

static bool all_roles_in(const subject *s, const string_set *set)
{
    if (s->role_count == 0)
        return false;
    for (size_t i = 0; i < s->role_count; i++)
        if (!set_has(set, s->roles[i]))
            return false;
    return true;
}

/*
 * A rule applies when the contact holds one of its roles (all of them for a
 * whole-entity rule: removing a contact must not take an unlisted role with
 * it), none of its except_roles, is of one of its kinds and lives in one of
 * its countries and regions.
 */
static bool applies(const rrule *r, const subject *s, bool whole_entity)
{
    if (r->roles.count && !(whole_entity ? all_roles_in(s, &r->roles) : any_role_in(s, &r->roles)))
        return false;
    if (r->except_roles.count && any_role_in(s, &r->except_roles))
        return false;
    if (r->kinds && !(r->kinds & s->kind))
        return false;
    if (r->countries.count && !set_has(&r->countries, s->country))
        return false;
    if (r->regions.count && !set_has(&r->regions, s->region))
        return false;
    return true;
}

const rrule *policy_rule_for(const policy *p, rfield field, const subject *s)
{
    for (size_t i = 0; i < p->rule_count; i++) {
        const rrule *r = &p->rules[i];
        if ((r->fields & (1u << field)) && applies(r, s, field == RF_ENTITY))
            return r;
    }
    return NULL;
}

const rrule *policy_rule_for_property(const policy *p, const char *name, const subject *s)
{
    for (size_t i = 0; i < p->rule_count; i++) {
        const rrule *r = &p->rules[i];
        if (r->properties.count && set_has(&r->properties, name) && applies(r, s, false))
            return r;
    }
    return NULL;
}

void policy_resolve_kind(const policy *p, subject *s, const char *kind)
{
    if (kind && strcasecmp(kind, "individual") == 0)
        s->kind = KIND_INDIVIDUAL;
    else if (kind && (strcasecmp(kind, "org") == 0 || strcasecmp(kind, "group") == 0 ||
                      strcasecmp(kind, "location") == 0))
        s->kind = KIND_ORG;
    else if (any_role_in(s, &p->organization_roles))
        s->kind = KIND_ORG;
    else
        s->kind = p->missing_kind;
}

bool policy_public_subject(const policy *p, const subject *s)
{
    return all_roles_in(s, &p->public_roles);
}

const char *rmethod_name(rmethod m)
{
    switch (m) {
    case RM_REMOVAL: return "removal";
    case RM_EMPTY_VALUE: return "emptyValue";
    case RM_PARTIAL_VALUE: return "partialValue";
    case RM_REPLACEMENT_VALUE: return "replacementValue";
    }
    return "removal";
}

const char *rclass_name(rclass c)
{
    switch (c) {
    case CLASS_PUBLIC: return "public";
    case CLASS_BUSINESS: return "business-sensitive";
    case CLASS_PERSONAL: return "personal";
    case CLASS_COUNT: break;
    }
    return "public";
}
