/*
 * targets.c — the target registry and the -mcpu / -mattr checks.
 *
 * One row per target.  A row names the triple and a fixed baseline CPU (never
 * the host's: an object must be reproducible and run on other machines, also
 * under valgrind), and points at LLVM's CPU and feature names, which the
 * build generates from llc (targets.cmake).  Checking against those lists
 * turns a typo into a tcc diagnostic listing the valid names instead of an
 * LLVM warning on stderr and a silently generic object.
 *
 * Adding a target: a row here, a tcc_target_lists() line in targets.cmake
 * and a small <target>.c with its init and hooks (armv8.c, riscv64.c, ...).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llvm_int.h"

static const char *const x86_64_implied_features[] = {"avx512vnni", "avx512f", "avx512f", "evex512", NULL};

static const TargetRow rows[] = {
    {{"x86_64", "x86-64 amd64", "x86_64-unknown-linux-gnu", "x86-64-v3", "",
      "x86-64 Linux (ELF), AVX2 baseline"},
     &target_lists_x86_64, x86_64_init, ".rodata.tcc_weights", x86_64_fn_attrs,
     {NULL, 256, 16, 32 << 10, 1 << 20, 0, true, false, true, IR_F32, NULL}, x86_64_sched, x86_64_implied_features},
    {{"armv8", "aarch64 arm64", "aarch64-unknown-linux-gnu", "generic", "+neon",
      "ARMv8-A AArch64 Linux (ELF), NEON"},
     &target_lists_armv8, armv8_init, ".rodata.tcc_weights", NULL,
     {NULL, 128, 32, 64 << 10, 1 << 20, 0, true, false, true, IR_F32, NULL}, armv8_sched, NULL},
    {{"riscv64", "rv64gc", "riscv64-unknown-linux-gnu", "generic-rv64",
      "+m,+a,+f,+d,+c", "RISC-V rv64gc Linux (ELF), lp64d"},
     &target_lists_riscv64, riscv64_init, ".rodata.tcc_weights", riscv64_fn_attrs,
     {NULL, 32, 32, 32 << 10, 512 << 10, 0, true, false, true, IR_F32, NULL}, NULL, NULL},
    {{"riscv64gcv", "rv64gcv", "riscv64-unknown-linux-gnu", "generic-rv64",
      "+m,+a,+f,+d,+c,+v", "RISC-V rv64gcv Linux (ELF), RVV 1.0, any VLEN"},
     &target_lists_riscv64, riscv64_init, ".rodata.tcc_weights",
     riscv64_fn_attrs,
     {NULL, 128, 32, 32 << 10, 512 << 10, 0, true, false, true, IR_F32, NULL}, NULL, NULL},
    {{"wasm32", "wasm", "wasm32-unknown-wasi", "generic", "+simd128",
      "WebAssembly (WASI), SIMD128"},
     &target_lists_wasm32, wasm32_init, NULL, NULL,
     {NULL, 128, 16, 32 << 10, 1 << 20, 0, false, false, true, IR_F32, NULL}, NULL, NULL},
    {{"cortex-m4", "", "thumbv7em-none-unknown-eabihf", "cortex-m4", "",
      "Cortex-M4 bare metal, Thumb-2, single-precision FPU, hard-float ABI"},
     &target_lists_cortex_m, cortex_m_init, ".rodata.tcc_weights", NULL,
     {NULL, 32, 16, 16 << 10, 0, 0, false, false, true, IR_F32, NULL}, NULL, NULL},
    {{"cortex-m7", "", "thumbv7em-none-unknown-eabihf", "cortex-m7", "",
      "Cortex-M7 bare metal, Thumb-2, FPv5 FPU, hard-float ABI"},
     &target_lists_cortex_m, cortex_m_init, ".rodata.tcc_weights", NULL,
     {NULL, 32, 16, 16 << 10, 0, 0, false, false, true, IR_F32, NULL}, NULL, NULL},
    /* ARMv8.1-M: Helium (MVE) with float lanes, 128-bit q registers.  LLVM's
     * ARM CPU and feature names do not depend on the triple: the same lists. */
    {{"cortex-m55", "", "thumbv8.1m.main-none-unknown-eabihf", "cortex-m55",
      "+mve.fp", "Cortex-M55 bare metal, Thumb-2, Helium (MVE) with float, "
      "FPv5 FPU, hard-float ABI"},
     &target_lists_cortex_m, cortex_m_init, ".rodata.tcc_weights", NULL,
     {NULL, 128, 8, 16 << 10, 0, 0, false, false, true, IR_F32, NULL}, NULL, NULL},
};

int target_count(void) { return (int)(sizeof rows / sizeof rows[0]); }

uint64_t target_max_weight_bytes(const TccTarget *t) {
  /* x86_64: the weights blob is written from where the weights lie
   * (elf_object.h) and LLVM's large code model (over 1 GiB) reaches any
   * address, so only memory and disk bound it.  Elsewhere the code reaches
   * the weights PC-relative (AArch64's ADRP, RISC-V's AUIPC: +-2 GiB and
   * beyond), wasm32 keeps them as LLVM constants in a 4 GiB memory, and a
   * Cortex-M board's flash is far smaller: 2 GiB, as tested. */
  if (!strncmp(t->triple, "x86_64-", 7)) return UINT64_MAX;
  return 2ull << 30;
}

const TccTarget *target_at(int i) {
  return i >= 0 && i < target_count() ? &rows[i].pub : NULL;
}

const TargetRow *target_row(const TccTarget *t) { return (const TargetRow *)t; }

/* LLVM's target registry is process-wide and its initializers are not
 * meant to race: every target's, once, whichever session comes first. */
static void init_all_targets(void) {
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) rows[i].init();
}

void target_init_llvm(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, init_all_targets);
}

/* True when word is one of the space-separated words of list. */
static bool word_in(const char *list, const char *word) {
  size_t n = strlen(word);
  for (const char *p = list; *p;) {
    while (*p == ' ') p++;
    size_t k = strcspn(p, " ");
    if (k == n && k && !memcmp(p, word, n)) return true;
    p += k;
  }
  return false;
}

const TccTarget *target_find(const char *name) {
  if (!name) return NULL;
  for (int i = 0; i < target_count(); i++)
    if (!strcmp(rows[i].pub.name, name) || word_in(rows[i].pub.aliases, name))
      return &rows[i].pub;
  return NULL;
}

static bool in_list(const char *const *list, int n, const char *s, size_t len) {
  for (int i = 0; i < n; i++)
    if (strlen(list[i]) == len && !memcmp(list[i], s, len)) return true;
  return false;
}

/* "a, b, c" of a list, malloc'd. */
static char *join(const char *const *list, int n) {
  size_t len = 1;
  for (int i = 0; i < n; i++) len += strlen(list[i]) + 2;
  char *s = malloc(len), *p = s;
  *p = 0;
  for (int i = 0; i < n; i++) p += sprintf(p, "%s%s", i ? ", " : "", list[i]);
  return s;
}

/* Whether the host runs code for t (same architecture as the triple's). */
static bool host_matches(const TccTarget *t) {
  char *host = LLVMGetDefaultTargetTriple();
  size_t a = strcspn(host, "-"), b = strcspn(t->triple, "-");
  bool same = a == b && !memcmp(host, t->triple, a);
  LLVMDisposeMessage(host);
  return same;
}

bool target_check_cpu(const TccTarget *t, const char *cpu) {
  const TargetLists *l = target_row(t)->lists;
  if (!cpu || in_list(l->cpus, l->num_cpus, cpu, strlen(cpu))) return true;
  if (!strcmp(cpu, "native")) {
    if (host_matches(t)) return true;
    diag_error("-mcpu=native needs a %s host to compile for target %s", t->name,
               t->name);
    return false;
  }
  char *valid = join(l->cpus, l->num_cpus);
  diag_error("unknown CPU '%s' for target %s; valid CPUs: %s, native", cpu,
             t->name, valid);
  free(valid);
  return false;
}

/* Checks one "+name"/"-name" item of length n. */
static bool check_feature(const TccTarget *t, const char *s, size_t n) {
  const TargetLists *l = target_row(t)->lists;
  if (n < 2 || (s[0] != '+' && s[0] != '-')) {
    diag_error("invalid feature '%.*s' for target %s: expected +name or -name",
               (int)n, s, t->name);
    return false;
  }
  if (in_list(l->features, l->num_features, s + 1, n - 1)) return true;
  char *valid = join(l->features, l->num_features);
  diag_error("unknown feature '%.*s' for target %s; valid features: %s",
             (int)n - 1, s + 1, t->name, valid);
  free(valid);
  return false;
}

bool target_check_features(const TccTarget *t, const char *features) {
  if (!features) return true;
  for (const char *p = features; *p;) {
    size_t n = strcspn(p, ",");
    if (n && !check_feature(t, p, n)) return false;
    p += n;
    if (*p == ',') p++;
  }
  return true;
}

bool target_cpu_is_wide(const TargetRow *t, const char *cpu) {
  const TargetLists *l = t->lists;
  return in_list(l->wide_cpus, l->num_wide_cpus, cpu, strlen(cpu));
}

bool target_feature_on(const char *features, const char *name, bool dflt) {
  size_t n = strlen(name);
  bool on = dflt;
  for (const char *p = features; *p;) {
    size_t k = strcspn(p, ",");
    if (k == n + 1 && (p[0] == '+' || p[0] == '-') && !memcmp(p + 1, name, n))
      on = p[0] == '+';
    p += k;
    if (*p == ',') p++;
  }
  return on;
}

void target_describe(const TargetRow *t, const char *cpu, const char *features,
                     SchedTarget *out) {
  *out = t->sched;
  out->name = t->pub.name;
  if (out->l2_bytes == 0) out->l2_bytes = out->l1_bytes; /* no L2 on a small MCU */
  if (t->sched_hook) t->sched_hook(t, cpu, features, out);
}

void target_sched(const LlvmOptions *o, SchedTarget *out) {
  char *cpu, *features;
  target_resolve(o, &cpu, &features);
  target_describe(target_row(o->target), cpu, features, out);
  free(cpu);
  free(features);
}

static char *dup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(malloc(n), s, n);
}

static void resolve_cpu_features(const LlvmOptions *o, char **cpu, char **features);

static void add_implied(const TargetRow *row, char **features) {
  for (const char *const *p = row->implied_features; p && p[0]; p += 2) {
    char minus[64];
    snprintf(minus, sizeof minus, "-%s", p[1]);
    if (!target_feature_on(*features, p[0], false) ||
        target_feature_on(*features, p[1], false) || strstr(*features, minus))
      continue;
    size_t n = strlen(*features) + strlen(p[1]) + 3;
    char *f = malloc(n);
    snprintf(f, n, "%s%s+%s", *features, **features ? "," : "", p[1]);
    free(*features);
    *features = f;
  }
}

void target_resolve(const LlvmOptions *o, char **cpu, char **features) {
  resolve_cpu_features(o, cpu, features);
  add_implied(target_row(o->target), features);
}

static void resolve_cpu_features(const LlvmOptions *o, char **cpu, char **features) {
  const TccTarget *t = o->target;
  const char *c = o->cpu ? o->cpu : t->default_cpu;
  const char *f = o->features ? o->features : t->default_features;
  if (strcmp(c, "native")) {
    *cpu = dup(c);
    *features = dup(f);
    return;
  }
  char *hc = LLVMGetHostCPUName(), *hf = LLVMGetHostCPUFeatures();
  *cpu = dup(hc);
  size_t n = strlen(hf) + strlen(f) + 2;
  *features = malloc(n);
  snprintf(*features, n, "%s%s%s", hf, *hf && *f ? "," : "", f);
  LLVMDisposeMessage(hc);
  LLVMDisposeMessage(hf);
}
