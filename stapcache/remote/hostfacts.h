/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SC_HOSTFACTS_H
#define SC_HOSTFACTS_H

#include <stddef.h>
#include <stdint.h>

#include "remote/targets.h"

/*
 * What a host demands of a module's signature and whom it trusts (issue 20),
 * read the way an unprivileged login can: host add, host refresh, host self
 * and doctor run SC_HOSTFACTS_SCRIPT there (one shell round trip, read only)
 * and hand its output to sc_hostfacts_apply.
 *
 *   /sys/kernel/security/lockdown          none [integrity] confidentiality
 *   /sys/module/module/parameters/sig_enforce   Y or N
 *   efivarfs SecureBoot-8be4df61-...       its fifth byte: 1 on, 0 off
 *   efivarfs db-d719b2cb-... and            UEFI signature lists (mode 0644
 *   MokListRT-605dab50-...                  in efivarfs): the X.509
 *                                          certificates the kernel loads
 *                                          into its .platform and .machine
 *                                          keyrings, which Debian's, Ubuntu's
 *                                          and RHEL's kernels trust for
 *                                          modules
 *
 * The variables come back as hex (od -tx1), so that nothing binary crosses
 * the shell; their parser checks every length against the buffer
 * (tests/unit/test-signing, tests/fuzz/fuzz-hostfacts). What a host does not
 * let its login read stays unknown (NULL), and says so where it is shown.
 * Not read: the kernel's built-in and secondary keyrings (/proc/keys shows
 * them to root only) and dbx.
 */
extern const char sc_hostfacts_script[];

/*
 * Set t's lockdown, sig_enforce, secure_boot and signers from the script's
 * output out (other lines are ignored; what it did not say becomes NULL).
 * Returns 0, -EBADMSG when a variable's bytes are not signature lists (the
 * facts that could be read are set, the signers stay unknown), or -ENOMEM.
 */
int sc_hostfacts_apply(const char *out, struct sc_target *t);

/* The largest EFI variable read (its hex is twice that). */
#define SC_EFIVAR_MAX (256u << 10)

/*
 * Each X.509 certificate in an EFI variable's bytes (4 bytes of attributes,
 * then EFI_SIGNATURE_LISTs, as efivarfs reads it): fn(arg, der, len) once a
 * certificate, der pointing into buf. Returns how many there were, or
 * -EBADMSG when the lists do not fill buf exactly as their sizes say.
 */
int sc_efi_certs(const uint8_t *buf, size_t len,
		 void (*fn)(void *arg, const uint8_t *der, size_t n), void *arg);

#endif
