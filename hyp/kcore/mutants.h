/*
 * hyp/kcore/mutants.h - seeded-bug switches. Each KCore mutant is the same source
 * built with exactly one -DKC_MUTANT_<NAME>=1 (output kcore-<name>.elf).
 * The simulator must find every one of them; the unmutated kcore.elf must
 * pass.
 *
 * This comment is the single list of mutants: hyp/kcore/CMakeLists.txt reads the
 * lines below (" * KC_MUTANT_<NAME>  <one-line description>") to build one
 * kcore-<name>.elf each and to generate the table `hypsim mutants` prints.
 * One mutant per line, the description on the same line (no semicolons:
 * CMake splits lists on them).
 *
 * KC_MUTANT_NO_TLBI_DONATE      donate unmaps the page from the host stage 2 but issues no TLBI (stale host TLB entry)
 * KC_MUTANT_TLBI_BEFORE_UNMAP   donate invalidates the host's TLB (TLBI, DSB) before unmapping, so a walk in between refills it
 * KC_MUTANT_TLBI_NO_DSB         donate issues the host TLBIs but no DSB: the page changes owner while the invalidation is still pending
 * KC_MUTANT_TLBI_WRONG_IPA      donate's TLBI IPAS2E1IS is given the page frame number instead of the IPA (invalidates another page)
 * KC_MUTANT_TLBI_WRONG_VMID     revoke invalidates the host's TLB entries under the guest's VMID (VTTBR_EL2 not switched to the host's)
 * KC_MUTANT_DONATE_NO_CHECK     donate skips the owner == host / count == 0 check (host donates KCore or VM pages)
 * KC_MUTANT_HOST_FAULT_NO_CHECK host stage-2 faults map any page, whoever owns it
 * KC_MUTANT_KCORE_IN_HOST_MAP   boot leaves KCore's last page (KC_END - 4 KiB) in the host's identity map (carve-out off by one page)
 * KC_MUTANT_OWNER_NO_LOCK       donate checks and updates the ownership array without host_lock (a concurrent host fault or donate races it)
 * KC_MUTANT_REVOKE_NO_UNMAP     revoke drops the share count to 0 but leaves the host mapping
 * KC_MUTANT_GRANT_OVERFLOW      grant keeps the share count in 2 bits without an overflow check: the 4th grant wraps it to 0 while the host maps the page
 * KC_MUTANT_NO_SCRUB            teardown returns pages to the host without zeroing them
 * KC_MUTANT_NO_CLEAN            teardown zeroes pages in the cache but does not clean them to PoC
 * KC_MUTANT_TEARDOWN_NO_TLBI    teardown unmaps the VM's pages without invalidating the VM's TLB entries
 * KC_MUTANT_TEARDOWN_OWNER_FIRST teardown gives each page back to the host before scrubbing it (a concurrent host fault maps VM data)
 * KC_MUTANT_TABLE_ZERO_LATE     a new page-table page is linked before it is zeroed, and teardown recycles whole leaf tables: a walk sees stale descriptors
 * KC_MUTANT_NO_BOOTFLAG_CLEAN   the boot line is mapped cacheable like the rest of .data and not cleaned to PoC: secondaries read it with the MMU off under CPU 0's dirty line (L1 refinement)
 * KC_MUTANT_LOCK_NOP            spinlocks do nothing (concurrent hypercalls race)
 * KC_MUTANT_GRANT_NOOP          grant returns success without counting the grant (L2 spec: share count unchanged)
 * KC_MUTANT_REVOKE_ZERO_OK      revoke of a page with share count 0 returns success instead of HC_EINVAL (L2 spec: result)
 * KC_MUTANT_VERIFY_NO_POWEROFF  verify refuses a bad image (HC_EHASH) but leaves the VM registered, not powered off (L2 spec)
 */
#ifndef KC_MUTANTS_H
#define KC_MUTANTS_H
#endif
