/*
 * tests/integration/test_soak.c - the correct KCore under random schedules.
 *
 *   test_soak soak SEEDS STEPS   SEEDS runs of STEPS steps, 4 CPUs, 2 or 3
 *                                VMs: 0 violations, and over the campaign
 *                                every hypercall kind succeeds at least once
 *                                and host stage-2 faults, donations,
 *                                grants, revokes and tear-downs all happen;
 *                                the L1 refinement and L2 spec checks
 *                                (model/layers.c: hypercalls and stage-2
 *                                faults) run and find nothing.
 *   test_soak agree STEPS        after boot, STEPS random steps with the
 *                                incremental checker and the full one run
 *                                side by side on every step: they agree.
 * KCore: $HYPSIM_KCORE or the built default.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/inv/inv.h"
#include "hyp/kcore/host/l2.h"
#include "model/machine.h"

static const struct { unsigned hc; const char *name; } kinds[] = {
    {HC_REGISTER_VM, "register_vm"}, {HC_REGISTER_VCPU, "register_vcpu"},
    {HC_SET_BOOT_INFO, "set_boot_info"}, {HC_VERIFY_VM, "verify_vm"},
    {HC_DONATE, "donate"}, {HC_RUN_VCPU, "run_vcpu"}, {HC_TEARDOWN, "teardown"},
    {HC_GRANT, "grant"}, {HC_REVOKE, "revoke"}, {HC_POWEROFF, "poweroff"},
    {HC_YIELD, "yield"},
};

static struct machine *make(uint64_t seed, unsigned vms, uint64_t steps, enum check_mode check)
{
    struct machine *m = calloc(1, sizeof(*m));
    struct machine_config cfg;
    char err[512];

    machine_config_default(&cfg);
    if (getenv("HYPSIM_KCORE") && *getenv("HYPSIM_KCORE"))   /* the model reads no environment */
        snprintf(cfg.kcore_path, sizeof(cfg.kcore_path), "%s", getenv("HYPSIM_KCORE"));
    cfg.ncpus = 4;
    cfg.nvms = vms;
    cfg.seed = seed;
    cfg.steps = steps;
    cfg.check = check;
    if (!m || machine_init(m, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "test_soak: %s\n", m ? err : "out of memory");
        exit(2);
    }
    return m;
}

static int soak(unsigned seeds, uint64_t steps)
{
    struct machine_stats tot;
    unsigned bad = 0;
    uint64_t skipped = 0, fault_skipped = 0, fault_open = 0, layer_viol = 0;
    int fail = 0;

    memset(&tot, 0, sizeof(tot));
    for (unsigned s = 1; s <= seeds; s++) {
        struct machine *m = make(s, 2 + s % 2, steps, CHECK_INCREMENTAL);
        for (uint64_t i = 0; i < steps && !machine_step(m); i++)
            ;
        if (m->nviol) {
            bad++;
            fprintf(stderr, "FAIL: seed %u: invariant %d at step %llu: %s\n", s,
                    m->viol[0].invariant, (unsigned long long)m->viol[0].step, m->viol[0].detail);
        }
        tot.steps += m->st.steps;
        tot.hypercalls += m->st.hypercalls;
        tot.guest_instructions += m->st.guest_instructions;
        tot.invariant_checks += m->st.invariant_checks;
        tot.refinement_checks += m->st.refinement_checks;
        tot.spec_checks += m->st.spec_checks;
        tot.fault_checks += m->st.fault_checks;
        skipped += layers_spec_skipped(m);
        fault_skipped += layers_fault_skipped(m);
        fault_open += layers_faults_in_flight(m);
        for (unsigned i = 0; i < m->nviol; i++)
            layer_viol += m->viol[i].invariant == 8;
        tot.host_s2_faults += m->st.host_s2_faults;
        tot.host_s2_refused += m->st.host_s2_refused;
        tot.guest_s2_faults += m->st.guest_s2_faults;
        for (unsigned k = 0; k < 32; k++) {
            tot.hc_ok[k] += m->st.hc_ok[k];
            tot.hc_fail[k] += m->st.hc_fail[k];
        }
        machine_free(m);
        free(m);
    }
    printf("soak: %u seeds x %llu steps, 4 CPUs, 2-3 VMs: %u runs with violations\n", seeds,
           (unsigned long long)steps, bad);
    printf("  steps %llu, KCore instructions %llu, invariant checks %llu, hypercalls %llu\n",
           (unsigned long long)tot.steps, (unsigned long long)tot.guest_instructions,
           (unsigned long long)tot.invariant_checks, (unsigned long long)tot.hypercalls);
    printf("  layers: refinement checks %llu, spec checks %llu (%llu concurrent calls not checked), "
           "fault checks %llu (%llu not checked), %llu refinement/spec violations\n",
           (unsigned long long)tot.refinement_checks, (unsigned long long)tot.spec_checks,
           (unsigned long long)skipped, (unsigned long long)tot.fault_checks,
           (unsigned long long)fault_skipped, (unsigned long long)layer_viol);
    if (!tot.refinement_checks || !tot.spec_checks || !tot.fault_checks) {
        fprintf(stderr, "FAIL: the layer checks did not run\n");
        fail = 1;
    }
    /* Every stage-2 fault is checked, skipped, or still being handled when
     * its run ends (the actor's hooks see every fault's end). */
    if (tot.fault_checks + fault_skipped + fault_open != tot.host_s2_faults + tot.guest_s2_faults) {
        fprintf(stderr, "FAIL: %llu stage-2 faults, %llu checked, %llu skipped, %llu in flight at the end\n",
                (unsigned long long)(tot.host_s2_faults + tot.guest_s2_faults),
                (unsigned long long)tot.fault_checks, (unsigned long long)fault_skipped,
                (unsigned long long)fault_open);
        fail = 1;
    }
    printf("  host stage-2 faults %llu (refused %llu), guest stage-2 faults %llu\n",
           (unsigned long long)tot.host_s2_faults, (unsigned long long)tot.host_s2_refused,
           (unsigned long long)tot.guest_s2_faults);
    for (unsigned k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        printf("  %-14s ok %6llu  failed %6llu\n", kinds[k].name,
               (unsigned long long)tot.hc_ok[kinds[k].hc], (unsigned long long)tot.hc_fail[kinds[k].hc]);
        if (!tot.hc_ok[kinds[k].hc]) {
            fprintf(stderr, "FAIL: hypercall %s never succeeded\n", kinds[k].name);
            fail = 1;
        }
    }
    if (!tot.host_s2_faults) {
        fprintf(stderr, "FAIL: no host stage-2 fault\n");
        fail = 1;
    }
    if (bad)
        fail = 1;
    printf("%d passed, %d failed\n", !fail, fail);
    return fail;
}

static int agree(uint64_t steps)
{
    struct machine *m = make(3, 2, 10 * steps, CHECK_INCREMENTAL);
    uint64_t boot = 0, n = 0, mism;
    char buf[256] = "";
    int fail;

    /* Boot with the incremental checker alone (a full walk on every boot
     * step is slow and checks little: before boot only invariant 6's
     * structural rules apply), then both on every step. */
    while (!inv_booted(m) && boot < 200000 && !machine_step(m))
        boot++;
    inv_set_agree(m, true);
    for (; n < steps && !machine_step(m); n++)
        ;
    mism = inv_agree_mismatches(m, buf, sizeof(buf));
    fail = mism != 0 || m->nviol != 0 || n < steps || !inv_booted(m);
    printf("agree: booted after %llu steps, then %llu steps with incremental and full checks: "
           "%llu disagreements, %u violations, %llu hypercalls%s%s\n",
           (unsigned long long)boot, (unsigned long long)n, (unsigned long long)mism, m->nviol,
           (unsigned long long)m->st.hypercalls, mism ? ": " : "", buf);
    printf("%d passed, %d failed\n", !fail, fail);
    machine_free(m);
    free(m);
    return fail;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "soak"))
        return soak((unsigned)strtoul(argv[2], NULL, 0), strtoull(argv[3], NULL, 0));
    if (argc == 3 && !strcmp(argv[1], "agree"))
        return agree(strtoull(argv[2], NULL, 0));
    fprintf(stderr, "usage: test_soak soak SEEDS STEPS | agree STEPS\n");
    return 2;
}
