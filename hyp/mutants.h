/*
 * hyp/mutants.h - seeded-bug switches. Each KCore mutant is the same source
 * built with exactly one -DKC_MUTANT_<NAME>=1 (hyp/CMakeLists.txt:
 * KCORE_MUTANTS, output kcore-<name>.elf). The simulator must find every
 * one of them; the unmutated kcore.elf must pass.
 *
 * KC_MUTANT_NO_TLBI_DONATE      donate unmaps the page from the host stage 2 but issues no TLBI (stale host TLB entry)
 * KC_MUTANT_DONATE_NO_CHECK     donate skips the owner == host / count == 0 check (host donates KCore or VM pages)
 * KC_MUTANT_HOST_FAULT_NO_CHECK host stage-2 faults map any page, whoever owns it
 * KC_MUTANT_REVOKE_NO_UNMAP     revoke drops the share count to 0 but leaves the host mapping
 * KC_MUTANT_NO_SCRUB            teardown returns pages to the host without zeroing them
 * KC_MUTANT_NO_CLEAN            teardown zeroes pages in the cache but does not clean them to PoC
 * KC_MUTANT_TEARDOWN_NO_TLBI    teardown unmaps the VM's pages without invalidating the VM's TLB entries
 * KC_MUTANT_TEARDOWN_OWNER_FIRST teardown gives each page back to the host before scrubbing it (a concurrent host fault maps VM data)
 * KC_MUTANT_NO_TABLE_ZERO       new page-table pages are not zeroed (equivalent while freed tables are always empty; not in the default list)
 * KC_MUTANT_NO_BOOTFLAG_CLEAN   boot data for secondaries is not cleaned to PoC (they read it with the MMU off)
 * KC_MUTANT_LOCK_NOP            spinlocks do nothing (concurrent hypercalls race)
 */
#ifndef KC_MUTANTS_H
#define KC_MUTANTS_H
#endif
