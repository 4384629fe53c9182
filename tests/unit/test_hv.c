/*
 * tests/unit/test_hv.c - CMocka tests of the hypervisor interface
 * (hyp/hv.h): the registry, the shared helpers, and that every registered
 * implementation keeps the contract hyp/CONTRACT.md states for its layout,
 * its VMID map and its hypercall table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hyp/hv.h"

static void test_hv_registry_finds_kcore(void **state)
{
    (void)state;
    assert_non_null(hv_default());
    assert_ptr_equal(hv_find("kcore"), hv_default());
    assert_ptr_equal(hv_nth(0), hv_default());
    assert_null(hv_find("no-such-hypervisor"));
}

static void test_hv_label_names(void **state)
{
    const struct hv_ops *hv = hv_default();
    char b[16];
    (void)state;
    assert_string_equal(hv_label_name(hv, LABEL_HYP, b, sizeof b), "KCore");
    assert_string_equal(hv_label_name(hv, LABEL_HOST, b, sizeof b), "host");
    assert_string_equal(hv_label_name(hv, LABEL_VM(2), b, sizeof b), "VM 2");
    assert_string_equal(hv_label_name(hv, LABEL_NONE, b, sizeof b), "nobody");
    assert_int_equal(hv_owner_label(HV_OWNER_VM(3)), LABEL_VM(3));
    assert_int_equal(hv_owner_label(HV_OWNER_HYP), LABEL_HYP);
    assert_int_equal(hv_owner_label(HV_OWNER_NONE), LABEL_NONE);
}

/* A flat test memory for the abstraction functions. */
static uint64_t words[1 << 16];
static uint64_t t_word(const void *arg, uint64_t pa)
{
    (void)arg;
    return pa / 8 < sizeof words / 8 ? words[pa / 8] : 0;
}
static int t_words(const void *arg, uint64_t pa, uint64_t *out, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        out[i] = t_word(arg, pa + 8ull * i);
    return 0;
}

static void test_hv_page_effective_keeps_own_region(void **state)
{
    const struct hv_ops *hv = hv_default();
    struct hv_mem mm = { t_word, t_words, NULL };
    struct hv_page p;
    (void)state;
    /* An array that says "host" everywhere: the hypervisor's own region is
     * still the hypervisor's, the rest is what the array says. */
    memset(words, 0, sizeof words);
    hv_page_effective(hv, &mm, 0, &p);
    assert_int_equal(p.owner, HV_OWNER_HYP);
    hv_page(hv, &mm, 0, &p);
    assert_int_equal(p.owner, HV_OWNER_HOST);
    hv_page(hv, &mm, hv->layout.own_entries, &p);   /* past the array */
    assert_int_equal(p.owner, HV_OWNER_NONE);
}

static void test_hv_contract_of_each_implementation(void **state)
{
    const struct hv_ops *hv;
    (void)state;
    for (unsigned i = 0; (hv = hv_nth(i)); i++) {
        const struct hv_layout *l = &hv->layout;
        uint64_t idx;
        assert_non_null(hv->name);
        assert_non_null(hv->label_name);
        assert_true(l->max_vms <= HV_MAX_VMS);
        assert_true(l->text_base + l->text_size <= l->region_end);
        assert_true(l->pool_base + l->pool_size <= l->region_end);
        assert_true(l->own_base + 8 * l->own_entries <= l->region_end);
        assert_true(l->region_end < l->min_mem);
        /* VMIDs name the host and each VM slot, distinctly. */
        assert_int_equal(hv->vmid_principal(0) == LABEL_HOST || LABEL_IS_VM(hv->vmid_principal(0)), 1);
        /* The ownership array's words are the abstraction's. */
        assert_int_equal(hv->word_kind(l->own_base + 8 * 5, &idx), HV_WORD_OWNER);
        assert_int_equal(idx, 5);
        assert_int_equal(hv->word_kind(l->region_end, &idx), HV_WORD_NONE);
        /* Hypercall numbers and names are unique, every row has both. */
        const struct hv_call *a, *b;
        for (unsigned j = 0; (a = hv->call(j)); j++) {
            assert_non_null(a->name);
            assert_non_null(a->sym);
            assert_ptr_equal(hv_call_by_nr(hv, a->nr), a);
            assert_ptr_equal(hv_call_by_name(hv, a->name), a);
            for (unsigned k = j + 1; (b = hv->call(k)); k++)
                assert_true(a->nr != b->nr);
        }
        assert_non_null(hv->adversary);
        assert_non_null(hv->adversary->host_act);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hv_registry_finds_kcore),
        cmocka_unit_test(test_hv_label_names),
        cmocka_unit_test(test_hv_page_effective_keeps_own_region),
        cmocka_unit_test(test_hv_contract_of_each_implementation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
