/*
 * core/ctx_aarch64.S - context switch for aarch64 (AAPCS64).
 *
 * Saved frame (176 bytes), from the saved stack pointer upwards:
 *   0..95:   x19-x28, x29 (frame pointer), x30 (return address)
 *   96..159: d8-d15 (the callee-saved low halves of v8-v15)
 *   160:     FPCR
 * ringo__ctx_make() in core/ctx.c builds the same frame for a new context,
 * with x30 = ringo__ctx_start and the entry function and argument in x19
 * and x20.
 */
	.text
	.globl ringo__ctx_switch
	.type ringo__ctx_switch, %function
	.p2align 4
ringo__ctx_switch:
	sub sp, sp, #176
	stp x19, x20, [sp, #0]
	stp x21, x22, [sp, #16]
	stp x23, x24, [sp, #32]
	stp x25, x26, [sp, #48]
	stp x27, x28, [sp, #64]
	stp x29, x30, [sp, #80]
	stp d8, d9, [sp, #96]
	stp d10, d11, [sp, #112]
	stp d12, d13, [sp, #128]
	stp d14, d15, [sp, #144]
	mrs x9, fpcr
	str x9, [sp, #160]
	mov x9, sp
	str x9, [x0]
	ldr x9, [x1]
	mov sp, x9
	ldp x19, x20, [sp, #0]
	ldp x21, x22, [sp, #16]
	ldp x23, x24, [sp, #32]
	ldp x25, x26, [sp, #48]
	ldp x27, x28, [sp, #64]
	ldp x29, x30, [sp, #80]
	ldp d8, d9, [sp, #96]
	ldp d10, d11, [sp, #112]
	ldp d12, d13, [sp, #128]
	ldp d14, d15, [sp, #144]
	ldr x9, [sp, #160]
	msr fpcr, x9
	add sp, sp, #176
	ret
	.size ringo__ctx_switch, .-ringo__ctx_switch

	.globl ringo__ctx_start
	.type ringo__ctx_start, %function
	.p2align 4
ringo__ctx_start:
	mov x0, x20
	blr x19
	brk #0
	.size ringo__ctx_start, .-ringo__ctx_start

	.section .note.GNU-stack,"",%progbits
