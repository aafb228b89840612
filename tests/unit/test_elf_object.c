/*
 * test_elf_object.c — elf_attach_blob on objects LLVM really emits, for
 * x86_64, AArch64, RISC-V (ELF64) and Cortex-M (ELF32): a module declares
 * an external hidden m_weights and reads it at run-time and constant
 * offsets; the blob is attached and the result parsed here with <elf.h>'s
 * structs (not elf_object.c's reader), linked and run (natively, and under
 * qemu-user where the cross compiler and qemu are installed; Cortex-M is
 * linked only).  Then the diagnostics, word for word.
 *
 * The LLVM headers: tcc_lib keeps LLVM's include directory private, so
 * this test needs it added for itself in tests/CMakeLists.txt; without it
 * only the tests that need no LLVM object run, and one test fails saying so.
 */
#define _POSIX_C_SOURCE 200809L
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "elf_object.h"
#include "ir.h"

#if __has_include(<llvm-c/TargetMachine.h>)
#define HAVE_LLVM_HEADERS 1
#include "llvm_int.h"
#endif

static char diag_text[4096];
static void sink(void *user, DiagLevel level, const char *msg) {
  (void)user;
  (void)level;
  snprintf(diag_text, sizeof diag_text, "%s", msg);
}

static int setup(void **state) {
  (void)state;
  diag_set_sink(sink, NULL);
  return 0;
}

/* ------------------------------------------------ errors without LLVM */
static void test_not_elf(void **state) {
  (void)state;
  static const char text[] = "hello, world, this is not an object at all....";
  ElfWithBlob w;
  ElfSizes s;
  diag_text[0] = 0;
  assert_false(elf_attach_blob(text, sizeof text, "m_weights", ".rodata.w", 16,
                               64, &w));
  assert_string_equal(diag_text, "tcc: error: internal error: cannot define "
                      "m_weights: the object is not a little-endian ELF "
                      "relocatable object (no ELF magic)");
  assert_false(elf_sizes(text, sizeof text, &s));
  assert_int_equal(elf_class_bits(text, sizeof text), 0);
  assert_false(elf_sizes(text, 3, &s));
}

#ifdef HAVE_LLVM_HEADERS
static int run(const char *cmd) {
  int rc = system(cmd);
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static bool have(const char *tool) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
  return run(cmd) == 0;
}

/* --------------------------------------------------- objects from LLVM */
typedef struct Target {
  const char *name, *triple, *cpu, *features;
  void (*init)(void);
  int bits;
  unsigned machine;
  const char *cc, *qemu; /* cross compiler and emulator; NULL: native */
  const char *cflags;
} Target;

static const Target targets[] = {
    {"x86_64", "x86_64-unknown-linux-gnu", "x86-64", "", x86_64_init, 64,
     EM_X86_64, "cc", NULL, ""},
    {"aarch64", "aarch64-unknown-linux-gnu", "generic", "+neon", armv8_init, 64,
     EM_AARCH64, "aarch64-linux-gnu-gcc", "qemu-aarch64", "-static"},
    {"riscv64", "riscv64-unknown-linux-gnu", "generic-rv64", "+m,+a,+f,+d,+c",
     riscv64_init, 64, EM_RISCV, "riscv64-linux-gnu-gcc", "qemu-riscv64",
     "-static"},
    /* linked, not run: a bare-metal program needs a board (tests/targets) */
    {"cortex-m4", "thumbv7em-none-unknown-eabihf", "cortex-m4", "", cortex_m_init,
     32, EM_ARM, "arm-none-eabi-gcc", NULL,
     "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 "
     /* newlib's crtn.o has no .note.GNU-stack: not ours to warn about */
     "--specs=nosys.specs -Wl,--no-warn-execstack"},
};

/* The blob: pieces with gaps before, between and after them; the last
 * ends the blob.  WORD_OFF is where m_word's i32 array starts. */
#define BLOB_SIZE (3 * 4096 + 77)
#define WORD_OFF 4096
#define NUM_WORDS 64
static unsigned char piece_bytes[4][1024];
static const ElfBlobPiece pieces[4] = {
    {piece_bytes[0], 8, 100},
    {piece_bytes[1], 192, 1000},
    {piece_bytes[2], WORD_OFF, NUM_WORDS * 4},
    {piece_bytes[3], BLOB_SIZE - 13, 13},
};

/* Fills the pieces' bytes, and b with the blob they make. */
static void expected_blob(unsigned char *b) {
  memset(b, 0, BLOB_SIZE);
  for (int p = 0; p < 4; p++) {
    for (size_t k = 0; k < sizeof piece_bytes[p]; k++)
      piece_bytes[p][k] = (unsigned char)(k * 7 + p * 50 + 1);
    memcpy(b + pieces[p].offset, pieces[p].data, pieces[p].nbytes);
  }
}

/* m_get(i) = m_weights[i]; m_word(i) = ((int32_t *)(m_weights + WORD_OFF))[i]:
 * a run-time index from the symbol and one from a constant offset in it,
 * the two ways the backend addresses weights. */
static void build_module(LLVMContextRef c, LLVMModuleRef mod) {
  LLVMTypeRef i8 = LLVMInt8TypeInContext(c), i32 = LLVMInt32TypeInContext(c),
              i64 = LLVMInt64TypeInContext(c);
  LLVMValueRef g = LLVMAddGlobal(mod, LLVMArrayType2(i8, BLOB_SIZE), "m_weights");
  LLVMSetGlobalConstant(g, 1);
  LLVMSetAlignment(g, 64);
  LLVMSetVisibility(g, LLVMHiddenVisibility);
  LLVMTypeRef fty = LLVMFunctionType(i32, &i64, 1, 0);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c);
  for (int f = 0; f < 2; f++) {
    LLVMValueRef fn = LLVMAddFunction(mod, f ? "m_word" : "m_get", fty);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c, fn, ""));
    LLVMValueRef i = LLVMGetParam(fn, 0), r;
    if (!f) {
      r = LLVMBuildLoad2(b, i8, LLVMBuildGEP2(b, i8, g, &i, 1, ""), "");
      r = LLVMBuildZExt(b, r, i32, "");
    } else {
      LLVMValueRef off = LLVMConstInt(i64, WORD_OFF, 0);
      LLVMValueRef base = LLVMConstGEP2(i8, g, &off, 1);
      r = LLVMBuildLoad2(b, i32, LLVMBuildGEP2(b, i32, base, &i, 1, ""), "");
      LLVMSetAlignment(r, 4);
    }
    LLVMBuildRet(b, r);
  }
  LLVMDisposeBuilder(b);
}

/* The object LLVM emits for the module on t (PIC, as llvm_emit.c asks). */
static void *emit_object(const Target *t, size_t *size) {
  t->init();
  LLVMContextRef c = LLVMContextCreate();
  LLVMModuleRef mod = LLVMModuleCreateWithNameInContext("m", c);
  LLVMSetTarget(mod, t->triple);
  if (t->machine == EM_RISCV) /* Debian's objects are lp64d (riscv64.c) */
    LLVMAddModuleFlag(mod, LLVMModuleFlagBehaviorError, "target-abi", 10,
                      LLVMMDStringInContext2(c, "lp64d", 5));
  build_module(c, mod);
  LLVMTargetRef tgt;
  char *err = NULL;
  assert_int_equal(LLVMGetTargetFromTriple(t->triple, &tgt, &err), 0);
  LLVMTargetMachineRef tm = LLVMCreateTargetMachine(
      tgt, t->triple, t->cpu, t->features, LLVMCodeGenLevelDefault,
      LLVMRelocPIC, LLVMCodeModelDefault);
  LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
  LLVMSetModuleDataLayout(mod, td);
  LLVMDisposeTargetData(td);
  LLVMMemoryBufferRef buf = NULL;
  assert_int_equal(
      LLVMTargetMachineEmitToMemoryBuffer(tm, mod, LLVMObjectFile, &err, &buf), 0);
  *size = LLVMGetBufferSize(buf);
  void *obj = malloc(*size);
  assert_non_null(obj);
  memcpy(obj, LLVMGetBufferStart(buf), *size);
  LLVMDisposeMemoryBuffer(buf);
  LLVMDisposeTargetMachine(tm);
  LLVMDisposeModule(mod);
  LLVMContextDispose(c);
  return obj;
}

/* ---------------------------- the test's own reader, through <elf.h> */
typedef struct Sec {
  uint64_t name, type, flags, offset, size, link, info, align, entsize;
} Sec;
typedef struct Sym {
  uint64_t name, value, size, shndx;
  unsigned bind, type, vis;
} Sym;
typedef struct Obj {
  const unsigned char *b;
  int bits;
  unsigned machine, shnum, shstrndx;
  uint64_t shoff;
} Obj;

static Obj obj_open(const void *p) {
  Obj o = {.b = p, .bits = ((const unsigned char *)p)[EI_CLASS] == ELFCLASS64 ? 64 : 32};
  if (o.bits == 64) {
    Elf64_Ehdr h;
    memcpy(&h, p, sizeof h);
    o = (Obj){p, 64, h.e_machine, h.e_shnum, h.e_shstrndx, h.e_shoff};
  } else {
    Elf32_Ehdr h;
    memcpy(&h, p, sizeof h);
    o = (Obj){p, 32, h.e_machine, h.e_shnum, h.e_shstrndx, h.e_shoff};
  }
  return o;
}

static Sec obj_sec(const Obj *o, unsigned i) {
  if (o->bits == 64) {
    Elf64_Shdr s;
    memcpy(&s, o->b + o->shoff + i * sizeof s, sizeof s);
    return (Sec){s.sh_name, s.sh_type, s.sh_flags, s.sh_offset, s.sh_size,
                 s.sh_link, s.sh_info, s.sh_addralign, s.sh_entsize};
  }
  Elf32_Shdr s;
  memcpy(&s, o->b + o->shoff + i * sizeof s, sizeof s);
  return (Sec){s.sh_name, s.sh_type, s.sh_flags, s.sh_offset, s.sh_size,
               s.sh_link, s.sh_info, s.sh_addralign, s.sh_entsize};
}

static const char *obj_sec_name(const Obj *o, unsigned i) {
  Sec names = obj_sec(o, o->shstrndx);
  return (const char *)o->b + names.offset + obj_sec(o, i).name;
}

static unsigned obj_symtab(const Obj *o) {
  for (unsigned i = 0; i < o->shnum; i++)
    if (obj_sec(o, i).type == SHT_SYMTAB) return i;
  fail_msg("no symbol table");
  return 0;
}

static Sym obj_sym(const Obj *o, uint64_t k) {
  Sec st = obj_sec(o, obj_symtab(o));
  const unsigned char *p = o->b + st.offset + k * st.entsize;
  if (o->bits == 64) {
    Elf64_Sym s;
    memcpy(&s, p, sizeof s);
    return (Sym){s.st_name, s.st_value, s.st_size, s.st_shndx,
                 ELF64_ST_BIND(s.st_info), ELF64_ST_TYPE(s.st_info),
                 ELF64_ST_VISIBILITY(s.st_other)};
  }
  Elf32_Sym s;
  memcpy(&s, p, sizeof s);
  return (Sym){s.st_name, s.st_value, s.st_size, s.st_shndx,
               ELF32_ST_BIND(s.st_info), ELF32_ST_TYPE(s.st_info),
               ELF32_ST_VISIBILITY(s.st_other)};
}

static uint64_t obj_find_sym(const Obj *o, const char *name) {
  Sec st = obj_sec(o, obj_symtab(o));
  const char *str = (const char *)o->b + obj_sec(o, st.link).offset;
  for (uint64_t k = 1; k < st.size / st.entsize; k++)
    if (!strcmp(str + obj_sym(o, k).name, name)) return k;
  fail_msg("no symbol %s", name);
  return 0;
}

/* Relocations whose symbol is sym (REL or RELA, either class). */
static int relocs_against(const Obj *o, uint64_t sym) {
  int n = 0;
  for (unsigned i = 0; i < o->shnum; i++) {
    Sec s = obj_sec(o, i);
    if (s.type != SHT_REL && s.type != SHT_RELA) continue;
    for (uint64_t off = 0; off < s.size; off += s.entsize) {
      const unsigned char *p = o->b + s.offset + off;
      uint64_t info;
      if (o->bits == 64) {
        memcpy(&info, p + 8, 8);
        n += ELF64_R_SYM(info) == sym;
      } else {
        uint32_t i32;
        memcpy(&i32, p + 4, 4);
        n += ELF32_R_SYM(i32) == sym;
      }
    }
  }
  return n;
}

/* ------------------------------------------------------------ checks */
static void *attach(const void *obj, size_t size, ElfWithBlob *w) {
  assert_true(elf_attach_blob(obj, size, "m_weights", ".rodata.tcc_weights",
                              BLOB_SIZE, 64, w));
  void *flat = elf_flatten_with_blob(w, pieces, 4);
  assert_non_null(flat);
  return flat;
}

/* What the writer puts in a file is the flattened object, byte for byte. */
static void check_writer(const ElfWithBlob *w, const void *flat) {
  FILE *f = tmpfile();
  assert_non_null(f);
  assert_true(elf_write_with_blob(f, w, pieces, 4));
  assert_int_equal(ftell(f), (long)w->total_size);
  rewind(f);
  unsigned char *back = malloc(w->total_size);
  assert_int_equal(fread(back, 1, w->total_size, f), w->total_size);
  assert_memory_equal(back, flat, w->total_size);
  free(back);
  fclose(f);
}

static void check_section(const Obj *o, const Obj *orig, const unsigned char *blob) {
  assert_int_equal(o->shnum, orig->shnum + 1);
  for (unsigned i = 0; i < orig->shnum; i++) {
    Sec a = obj_sec(orig, i), b = obj_sec(o, i);
    assert_string_equal(obj_sec_name(o, i), obj_sec_name(orig, i));
    assert_int_equal(a.type, b.type);
    assert_int_equal(a.flags, b.flags);
    assert_int_equal(a.link, b.link);
    assert_int_equal(a.info, b.info);
    if (i != orig->shstrndx) assert_int_equal(a.offset, b.offset);
    if (i != orig->shstrndx) assert_int_equal(a.size, b.size);
  }
  unsigned k = orig->shnum;
  Sec s = obj_sec(o, k);
  assert_string_equal(obj_sec_name(o, k), ".rodata.tcc_weights");
  assert_int_equal(s.type, SHT_PROGBITS);
  assert_int_equal(s.flags, SHF_ALLOC);
  assert_int_equal(s.align, 64);
  assert_int_equal(s.offset % 64, 0);
  assert_int_equal(s.size, BLOB_SIZE);
  assert_memory_equal(o->b + s.offset, blob, BLOB_SIZE);
}

static void check_symbol(const Obj *o, const Obj *orig, size_t orig_size) {
  uint64_t k = obj_find_sym(o, "m_weights");
  assert_int_equal(k, obj_find_sym(orig, "m_weights"));
  Sym was = obj_sym(orig, k), s = obj_sym(o, k);
  assert_int_equal(was.shndx, SHN_UNDEF);
  assert_int_equal(s.shndx, orig->shnum);
  assert_int_equal(s.value, 0);
  assert_int_equal(s.size, BLOB_SIZE);
  assert_int_equal(s.type, STT_OBJECT);
  assert_int_equal(s.bind, was.bind);
  assert_int_equal(s.vis, STV_HIDDEN);
  assert_int_equal(s.vis, was.vis);
  /* the rest of the object is as LLVM wrote it: every other symbol, the
   * code and its relocations (which name m_weights) */
  Sec st = obj_sec(o, obj_symtab(o));
  size_t ent = (size_t)st.entsize, at = (size_t)(st.offset + k * ent);
  size_t eh = o->bits == 64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
  assert_memory_equal(o->b + eh, orig->b + eh, at - eh);
  assert_memory_equal(o->b + at + ent, orig->b + at + ent, orig_size - at - ent);
  assert_true(relocs_against(o, k) > 0);
}

static void check_sizes(const void *flat, size_t flat_size, const void *obj,
                        size_t size, int bits) {
  ElfSizes a, b;
  assert_true(elf_sizes(obj, size, &a));
  assert_true(elf_sizes(flat, flat_size, &b));
  assert_int_equal(b.code, a.code);
  assert_true(b.code > 0);
  assert_int_equal(b.rodata, a.rodata + BLOB_SIZE);
  assert_int_equal(b.data, a.data);
  assert_int_equal(elf_class_bits(flat, flat_size), bits);
}

/* Links the object with a main that prints every byte through m_get and
 * every word through m_word, runs it (t->qemu, or natively) and compares. */
static void link_and_run(const Target *t, const void *flat, size_t size,
                         const unsigned char *blob) {
  if (!have(t->cc) || (t->qemu && !have(t->qemu))) {
    print_message("%s: %s or its emulator missing, not linked\n", t->name, t->cc);
    return;
  }
  char dir[] = "/tmp/tcc_elf_XXXXXX", path[3][64], cmd[1024];
  assert_non_null(mkdtemp(dir));
  static const char *const names[3] = {"m.o", "main.c", "prog"};
  for (int i = 0; i < 3; i++) snprintf(path[i], sizeof path[i], "%s/%s", dir, names[i]);
  FILE *f = fopen(path[0], "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(flat, 1, size, f), size);
  fclose(f);
  f = fopen(path[1], "w");
  assert_non_null(f);
  fprintf(f, "#include <stdint.h>\n#include <stdio.h>\n"
             "int32_t m_get(int64_t), m_word(int64_t);\n"
             "int main(void) {\n"
             "  for (int64_t i = 0; i < %d; i++) printf(\"%%d\\n\", (int)m_get(i));\n"
             "  for (int64_t i = 0; i < %d; i++) printf(\"%%d\\n\", (int)m_word(i));\n"
             "  return 0;\n}\n", BLOB_SIZE, NUM_WORDS);
  fclose(f);
  snprintf(cmd, sizeof cmd, "%s %s %s %s -o %s", t->cc, t->cflags, path[1],
           path[0], path[2]);
  assert_int_equal(run(cmd), 0);
  if (t->qemu || t->machine == EM_X86_64) {
    snprintf(cmd, sizeof cmd, "%s %s", t->qemu ? t->qemu : "", path[2]);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    for (int i = 0; i < BLOB_SIZE + NUM_WORDS; i++) {
      int v, want;
      if (i < BLOB_SIZE) want = blob[i];
      else memcpy(&want, blob + WORD_OFF + 4 * (i - BLOB_SIZE), 4);
      assert_int_equal(fscanf(p, "%d", &v), 1);
      assert_int_equal(v, want);
    }
    assert_int_equal(pclose(p), 0);
  }
  for (int i = 0; i < 3; i++) unlink(path[i]);
  rmdir(dir);
}

static void check_target(const Target *t) {
  size_t size;
  unsigned char *obj = emit_object(t, &size), blob[BLOB_SIZE];
  expected_blob(blob);
  Obj orig = obj_open(obj);
  assert_int_equal(orig.bits, t->bits);
  assert_int_equal(orig.machine, t->machine);
  ElfWithBlob w;
  unsigned char *flat = attach(obj, size, &w);
  assert_int_equal(w.head_size, size);
  Obj o = obj_open(flat);
  check_section(&o, &orig, blob);
  check_symbol(&o, &orig, size);
  check_sizes(flat, w.total_size, obj, size, t->bits);
  check_writer(&w, flat);
  /* the same inputs, the same bytes */
  ElfWithBlob w2;
  unsigned char *flat2 = attach(obj, size, &w2);
  assert_int_equal(w2.total_size, w.total_size);
  assert_memory_equal(flat2, flat, w.total_size);
  link_and_run(t, flat, w.total_size, blob);
  free(flat2);
  elf_with_blob_free(&w2);
  free(flat);
  elf_with_blob_free(&w);
  free(obj);
}

static void test_x86_64(void **state) { (void)state; check_target(&targets[0]); }
static void test_aarch64(void **state) { (void)state; check_target(&targets[1]); }
static void test_riscv64(void **state) { (void)state; check_target(&targets[2]); }
static void test_cortex_m(void **state) { (void)state; check_target(&targets[3]); }

/* ------------------------------------------------------------ errors */
static void expect_attach_error(const void *obj, size_t size, const char *symbol,
                                uint64_t blob_size, const char *message) {
  ElfWithBlob w = {0};
  diag_text[0] = 0;
  assert_false(elf_attach_blob(obj, size, symbol, ".rodata.tcc_weights",
                               blob_size, 64, &w));
  assert_string_equal(diag_text, message);
  assert_null(w.head);
}

static void test_symbol_errors(void **state) {
  (void)state;
  size_t size;
  void *obj = emit_object(&targets[0], &size);
  expect_attach_error(obj, size, "m_nope", 16,
                      "tcc: error: internal error: cannot define m_nope: the "
                      "object has no such symbol");
  expect_attach_error(obj, size, "m_get", 16,
                      "tcc: error: internal error: cannot define m_get: the "
                      "object defines it already");
  ElfWithBlob w;
  void *flat = attach(obj, size, &w);
  expect_attach_error(flat, w.total_size, "m_weights", 16,
                      "tcc: error: internal error: cannot define m_weights: "
                      "the object defines it already");
  free(flat);
  elf_with_blob_free(&w);
  free(obj);
}

static void test_malformed(void **state) {
  (void)state;
  size_t size;
  unsigned char *obj = emit_object(&targets[0], &size);
  static const char pre[] = "tcc: error: internal error: cannot define m_weights: "
                            "the object is not a little-endian ELF relocatable "
                            "object (";
  char want[512];
  ElfSizes s;
  snprintf(want, sizeof want, "%s%s", pre, "truncated ELF header)");
  expect_attach_error(obj, 40, "m_weights", 16, want);
  snprintf(want, sizeof want, "%s%s", pre, "section headers past the end of the file)");
  expect_attach_error(obj, size - 1, "m_weights", 16, want);
  assert_false(elf_sizes(obj, size - 1, &s));
  obj[EI_DATA] = ELFDATA2MSB;
  snprintf(want, sizeof want, "%s%s", pre, "not little-endian)");
  expect_attach_error(obj, size, "m_weights", 16, want);
  obj[EI_DATA] = ELFDATA2LSB;
  obj[offsetof(Elf64_Ehdr, e_type)] = ET_EXEC;
  snprintf(want, sizeof want, "%s%s", pre, "not a relocatable object)");
  expect_attach_error(obj, size, "m_weights", 16, want);
  assert_false(elf_sizes(obj, size, &s));
  free(obj);
}

/* ELF32 offsets end at 4 GiB: the largest blob that fits is accepted, one
 * word more is refused with the sizes; no blob is ever allocated. */
static void test_elf32_limit(void **state) {
  (void)state;
  size_t size;
  void *obj = emit_object(&targets[3], &size);
  ElfWithBlob w;
  assert_true(elf_attach_blob(obj, size, "m_weights", ".rodata.tcc_weights", 0,
                              64, &w));
  uint64_t fits = (UINT32_MAX - w.total_size) / 4 * 4;
  elf_with_blob_free(&w);
  assert_true(elf_attach_blob(obj, size, "m_weights", ".rodata.tcc_weights",
                              fits, 64, &w));
  assert_true(w.total_size <= UINT32_MAX);
  assert_true(w.total_size > UINT32_MAX - 8);
  elf_with_blob_free(&w);
  char want[512];
  uint64_t big[2] = {fits + 4, 5ull << 30};
  for (int i = 0; i < 2; i++) {
    snprintf(want, sizeof want,
             "tcc: error: cannot define m_weights: %llu bytes in section "
             ".rodata.tcc_weights after %zu bytes of code and tables do not fit "
             "an ELF32 object (at most 4294967295 bytes)",
             (unsigned long long)big[i], size);
    expect_attach_error(obj, size, "m_weights", big[i], want);
  }
  free(obj);
  /* ELF64: only a wrap past 2^64 is refused */
  obj = emit_object(&targets[0], &size);
  snprintf(want, sizeof want,
           "tcc: error: cannot define m_weights: %llu bytes in section "
           ".rodata.tcc_weights after %zu bytes of code and tables do not fit "
           "an ELF64 object (at most 18446744073709551615 bytes)",
           (unsigned long long)(UINT64_MAX - 100), size);
  expect_attach_error(obj, size, "m_weights", UINT64_MAX - 100, want);
  free(obj);
}
#else
static void test_llvm_headers(void **state) {
  (void)state;
  fail_msg("the LLVM headers are not on this test's include path: "
           "tests/CMakeLists.txt must give test_elf_object ${LLVM_INCLUDE_DIR}");
}
#endif

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_not_elf),
#ifdef HAVE_LLVM_HEADERS
      cmocka_unit_test(test_x86_64),
      cmocka_unit_test(test_aarch64),
      cmocka_unit_test(test_riscv64),
      cmocka_unit_test(test_cortex_m),
      cmocka_unit_test(test_symbol_errors),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_elf32_limit),
#else
      cmocka_unit_test(test_llvm_headers),
#endif
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
