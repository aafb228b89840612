/*
 * startup.c — a minimal reset for tcc's bare-metal runs on QEMU's
 * mps2-an386 (Cortex-M4F): vector table, .data/.bss set-up, the FPU on,
 * newlib's semihosting handles, main, exit.  Standard I/O, files and the
 * exit status reach the host through semihosting (newlib's rdimon), so the
 * same harness as on Linux runs here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern uint32_t __stack_top, __data_load, __data_start, __data_end,
    __bss_start__, __bss_end__;
extern int main(int argc, char **argv);
extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);
void tcc_reset(void);
void tcc_fault(void);

/* What crti.o/crtn.o would bring (no C++ here) and what newlib 3.3's
 * aligned_alloc needs but its libc lacks. */
void _init(void);
void _fini(void);
void _init(void) {}
void _fini(void) {}
extern void *memalign(size_t align, size_t size);
int posix_memalign(void **p, size_t align, size_t size);
int posix_memalign(void **p, size_t align, size_t size) {
  *p = memalign(align, size);
  return *p ? 0 : 12; /* ENOMEM */
}

/* double -> float16 on a core without a double-precision FPU (Cortex-M4):
 * LLVM calls the run-time ABI's name, GCC 12's libgcc has only its own
 * (same rounding).  ABI helpers take their arguments in core registers. */
extern unsigned short __gnu_d2h_ieee(double x);
__attribute__((pcs("aapcs"))) unsigned short __aeabi_d2h(double x);
__attribute__((pcs("aapcs"))) unsigned short __aeabi_d2h(double x) {
  return __gnu_d2h_ieee(x);
}

/* Any fault ends the run with status 70 instead of hanging QEMU. */
void tcc_fault(void) { exit(70); }

__attribute__((section(".vectors"), used))
static void (*const vectors[16])(void) = {
    (void (*)(void))&__stack_top, tcc_reset, tcc_fault, tcc_fault, tcc_fault,
    tcc_fault, tcc_fault, 0, 0, 0, 0, tcc_fault, tcc_fault, 0, tcc_fault,
    tcc_fault,
};

/* argv comes from the host through SYS_GET_CMDLINE (newlib does not parse
 * it for us without its crt0): split at spaces. */
static int get_args(char **argv, int max) {
  static char line[1024];
  struct { char *p; int n; } blk = {line, sizeof line - 1};
  register int r0 __asm__("r0") = 0x15; /* SYS_GET_CMDLINE */
  register void *r1 __asm__("r1") = &blk;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  if (r0 != 0) return 0;
  int argc = 0;
  for (char *p = line; *p && argc < max - 1;) {
    while (*p == ' ') *p++ = 0;
    if (!*p) break;
    argv[argc++] = p;
    while (*p && *p != ' ') p++;
  }
  argv[argc] = 0;
  return argc;
}

void tcc_reset(void) {
  memcpy(&__data_start, &__data_load,
         (size_t)((char *)&__data_end - (char *)&__data_start));
  memset(&__bss_start__, 0,
         (size_t)((char *)&__bss_end__ - (char *)&__bss_start__));
  *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20; /* CPACR: CP10, CP11 on */
  __asm__ volatile("dsb\n\tisb");
  initialise_monitor_handles();
  __libc_init_array();
  static char *argv[64];
  int argc = get_args(argv, 64);
  exit(main(argc, argv));
}

/* libm's roundevenf and roundeven (C23), which generated code calls for
 * Round (double: GridSample's nearest mode) and which newlib 3.3 lacks:
 * halfway cases go to the even neighbour. */
float roundevenf(float x);
float roundevenf(float x) {
  float r = __builtin_roundf(x); /* halfway: away from zero */
  if (__builtin_fabsf(x - __builtin_truncf(x)) == 0.5f)
    r = 2.0f * __builtin_roundf(x / 2.0f);
  return r;
}
double roundeven(double x);
double roundeven(double x) {
  double r = __builtin_round(x);
  if (__builtin_fabs(x - __builtin_trunc(x)) == 0.5)
    r = 2.0 * __builtin_round(x / 2.0);
  return r;
}
