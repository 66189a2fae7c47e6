/*
 * core/ctx_x86_64.S - context switch for x86-64 (System V ABI).
 *
 * Saved frame, from the saved stack pointer upwards:
 *   0: MXCSR (4 bytes), x87 control word (2 bytes), 2 bytes unused
 *   8: r15, r14, r13, r12, rbx, rbp, return address
 * ringo__ctx_make() in core/ctx.c builds the same frame for a new context,
 * with the return address pointing at ringo__ctx_start and the entry
 * function and its argument in r12 and r13.
 */
	.text
	.globl ringo__ctx_switch
	.type ringo__ctx_switch, @function
	.p2align 4
ringo__ctx_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	subq $8, %rsp
	stmxcsr (%rsp)
	fnstcw 4(%rsp)
	/* Read back with the stores' own widths, so the loads forward
	 * from the store buffer instead of stalling. */
	movl (%rsp), %ecx
	movzwl 4(%rsp), %edx
	movq %rsp, (%rdi)
	movq (%rsi), %rsp
	/* Loading MXCSR and the control word is slow and almost never
	 * changes anything: do it only when the two contexts differ. */
	cmpl (%rsp), %ecx
	jne 2f
	cmpw 4(%rsp), %dx
	jne 2f
1:	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
2:	ldmxcsr (%rsp)
	fldcw 4(%rsp)
	jmp 1b
	.size ringo__ctx_switch, .-ringo__ctx_switch

/* First instruction of every new context: the stack is 16-byte aligned
 * here, so the call below enters entry() with the ABI's alignment. */
	.globl ringo__ctx_start
	.type ringo__ctx_start, @function
	.p2align 4
ringo__ctx_start:
	movq %r13, %rdi
	callq *%r12
	ud2
	.size ringo__ctx_start, .-ringo__ctx_start

	.section .note.GNU-stack,"",@progbits
