/*
 * hyp/hv.c - helpers every user of the hypervisor interface shares. See hv.h.
 */
#include <stdio.h>
#include <string.h>

#include "hyp/hv.h"

void hv_page(const struct hv_ops *hv, const struct hv_mem *mm, uint64_t pfn, struct hv_page *p)
{
    if (pfn >= hv->layout.own_entries) {
        p->owner = HV_OWNER_NONE;
        p->count = 0;
        p->gfn = 0;
        return;
    }
    hv->page_decode(mm->word(mm->arg, hv->layout.own_base + 8 * pfn), p);
}

void hv_page_effective(const struct hv_ops *hv, const struct hv_mem *mm, uint64_t pfn,
                       struct hv_page *p)
{
    if (hv_in_region(hv, pfn << MEM_PAGE_SHIFT)) {
        p->owner = HV_OWNER_HYP;
        p->count = 0;
        p->gfn = 0;
        return;
    }
    hv_page(hv, mm, pfn, p);
}

const char *hv_label_name(const struct hv_ops *hv, label_t l, char *buf, size_t n)
{
    if (l == LABEL_HYP)
        return hv->label_name;
    if (l == LABEL_HOST)
        return "host";
    if (LABEL_IS_VM(l)) {
        snprintf(buf, n, "VM %d", LABEL_VM_INDEX(l));
        return buf;
    }
    return "nobody";
}

label_t hv_owner_label(unsigned owner)
{
    switch (owner) {
    case HV_OWNER_HOST: return LABEL_HOST;
    case HV_OWNER_HYP: return LABEL_HYP;
    case HV_OWNER_NONE: return LABEL_NONE;
    default: return LABEL_VM(HV_OWNER_VM_INDEX(owner));
    }
}

const char *hv_owner_name(const struct hv_ops *hv, unsigned owner, char *buf, size_t n)
{
    return hv_label_name(hv, hv_owner_label(owner), buf, n);
}

const struct hv_call *hv_call_by_nr(const struct hv_ops *hv, uint64_t nr)
{
    const struct hv_call *c;
    for (unsigned i = 0; (c = hv->call(i)); i++)
        if (c->nr == nr)
            return c;
    return NULL;
}

const struct hv_call *hv_call_by_name(const struct hv_ops *hv, const char *name)
{
    const struct hv_call *c;
    for (unsigned i = 0; (c = hv->call(i)); i++)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}
