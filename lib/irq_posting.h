/* SPDX-License-Identifier: MIT */
#ifndef MINIVMM_LIB_IRQ_POSTING_H
#define MINIVMM_LIB_IRQ_POSTING_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/host_env.h"

/*
 * Whether a passed device's MSIs can reach a running vCPU without a VM
 * exit (docs/latency.md, "Pitfalls"): KVM's virtual APIC (kvm_amd's AVIC,
 * kvm_intel's APICv) and an IOMMU that posts interrupts to it (AMD's
 * guest virtual APIC, GA; Intel's posted interrupts, VT-d cap bit 59).
 * Read from env->sysfs; what is missing is named in why (one phrase).
 * Returns true when both are on: posted interrupts.
 */
bool host_irq_posting(const struct host_env *env, char *why, size_t len);

#endif
