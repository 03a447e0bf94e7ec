/* SPDX-License-Identifier: MIT */
/* tests/guest/probe.bin inside minivmm, for `minivmm probe` (vmm/probe.c). */
	.section .rodata
	.balign 16
	.globl probe_payload, probe_payload_end
probe_payload:
	.incbin "tests/guest/probe.bin"
probe_payload_end:
	.section .note.GNU-stack, "", @progbits
