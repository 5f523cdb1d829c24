// fiber_switch.S: cudasim_fiber_switch(void** save_sp, void* next_sp) saves the callee-saved
// registers on the current stack, stores the stack pointer in *save_sp, switches to next_sp and
// restores the registers saved there. No system call (swapcontext would save the signal mask, one
// sigprocmask per switch). A new fiber's stack is laid out by fiber.cpp so that the first switch to
// it "returns" into cudasim_fiber_start with its argument registers from the saved frame.
#if defined(__x86_64__)
    .text
    .globl cudasim_fiber_switch
    .hidden cudasim_fiber_switch
    .type cudasim_fiber_switch, @function
cudasim_fiber_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size cudasim_fiber_switch, .-cudasim_fiber_switch

    // First code of a new fiber: r12 = entry function, r13 = its argument (from the prepared frame).
    .globl cudasim_fiber_trampoline
    .hidden cudasim_fiber_trampoline
    .type cudasim_fiber_trampoline, @function
cudasim_fiber_trampoline:
    movq %r13, %rdi
    callq *%r12
    ud2
    .size cudasim_fiber_trampoline, .-cudasim_fiber_trampoline
#elif defined(__aarch64__)
    .text
    .globl cudasim_fiber_switch
    .hidden cudasim_fiber_switch
    .type cudasim_fiber_switch, %function
cudasim_fiber_switch:
    sub sp, sp, #160
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
    mov x2, sp
    str x2, [x0]
    mov sp, x1
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
    add sp, sp, #160
    ret
    .size cudasim_fiber_switch, .-cudasim_fiber_switch

    // x19 = entry function, x20 = its argument (from the prepared frame).
    .globl cudasim_fiber_trampoline
    .hidden cudasim_fiber_trampoline
    .type cudasim_fiber_trampoline, %function
cudasim_fiber_trampoline:
    mov x0, x20
    blr x19
    brk #0
    .size cudasim_fiber_trampoline, .-cudasim_fiber_trampoline
#else
#error "cudasim fibers: only x86-64 and aarch64"
#endif
    .section .note.GNU-stack,"",%progbits
