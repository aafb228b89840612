/*
 * elf_object.c — ELF relocatable objects read and amended byte by byte.
 *
 * ELF32 and ELF64 differ only in where each header field lies and how wide
 * it is, so the fields are read through one table per class (offsetof and
 * sizeof on <elf.h>'s structs) into arrays of uint64_t, and written back the
 * same way; the logic above that is written once for both classes.  Every
 * offset read from the object is checked against its size before use: the
 * input is LLVM's, but a wrong read must end in a diagnostic, not a crash.
 * The layout elf_attach_blob produces is described in elf_object.h.
 */
#include "elf_object.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

typedef struct Field {
  unsigned char off, len;
} Field;
#define F(T, m) {offsetof(T, m), sizeof(((T *)0)->m)}

/* ORDER EH, SH, ST: the enums index the tables below. */
enum { EH_TYPE, EH_SHOFF, EH_SHENTSIZE, EH_SHNUM, EH_SHSTRNDX, EH_N };
enum { SH_NAME, SH_TYPE, SH_FLAGS, SH_ADDR, SH_OFFSET, SH_SIZE, SH_LINK,
       SH_INFO, SH_ADDRALIGN, SH_ENTSIZE, SH_N };
enum { ST_NAME, ST_VALUE, ST_SIZE, ST_INFO, ST_OTHER, ST_SHNDX, ST_N };

/* [0] ELF32, [1] ELF64 */
static const Field eh_fields[2][EH_N] = {
    {F(Elf32_Ehdr, e_type), F(Elf32_Ehdr, e_shoff), F(Elf32_Ehdr, e_shentsize),
     F(Elf32_Ehdr, e_shnum), F(Elf32_Ehdr, e_shstrndx)},
    {F(Elf64_Ehdr, e_type), F(Elf64_Ehdr, e_shoff), F(Elf64_Ehdr, e_shentsize),
     F(Elf64_Ehdr, e_shnum), F(Elf64_Ehdr, e_shstrndx)}};
static const Field sh_fields[2][SH_N] = {
    {F(Elf32_Shdr, sh_name), F(Elf32_Shdr, sh_type), F(Elf32_Shdr, sh_flags),
     F(Elf32_Shdr, sh_addr), F(Elf32_Shdr, sh_offset), F(Elf32_Shdr, sh_size),
     F(Elf32_Shdr, sh_link), F(Elf32_Shdr, sh_info),
     F(Elf32_Shdr, sh_addralign), F(Elf32_Shdr, sh_entsize)},
    {F(Elf64_Shdr, sh_name), F(Elf64_Shdr, sh_type), F(Elf64_Shdr, sh_flags),
     F(Elf64_Shdr, sh_addr), F(Elf64_Shdr, sh_offset), F(Elf64_Shdr, sh_size),
     F(Elf64_Shdr, sh_link), F(Elf64_Shdr, sh_info),
     F(Elf64_Shdr, sh_addralign), F(Elf64_Shdr, sh_entsize)}};
static const Field st_fields[2][ST_N] = {
    {F(Elf32_Sym, st_name), F(Elf32_Sym, st_value), F(Elf32_Sym, st_size),
     F(Elf32_Sym, st_info), F(Elf32_Sym, st_other), F(Elf32_Sym, st_shndx)},
    {F(Elf64_Sym, st_name), F(Elf64_Sym, st_value), F(Elf64_Sym, st_size),
     F(Elf64_Sym, st_info), F(Elf64_Sym, st_other), F(Elf64_Sym, st_shndx)}};
static const size_t eh_size[2] = {sizeof(Elf32_Ehdr), sizeof(Elf64_Ehdr)};
static const size_t sh_size[2] = {sizeof(Elf32_Shdr), sizeof(Elf64_Shdr)};
static const size_t st_size[2] = {sizeof(Elf32_Sym), sizeof(Elf64_Sym)};

static void get_fields(const unsigned char *p, const Field *f, int n,
                       uint64_t *v) {
  for (int i = 0; i < n; i++) {
    v[i] = 0;
    for (int k = f[i].len - 1; k >= 0; k--) v[i] = v[i] << 8 | p[f[i].off + k];
  }
}

static void put_fields(unsigned char *p, const Field *f, int n,
                       const uint64_t *v) {
  for (int i = 0; i < n; i++)
    for (int k = 0; k < f[i].len; k++) p[f[i].off + k] = (unsigned char)(v[i] >> 8 * k);
}

/* An object opened for reading: c is the class index (0 ELF32, 1 ELF64). */
typedef struct Elf {
  const unsigned char *b;
  size_t n;
  int c;
  uint64_t eh[EH_N];
} Elf;

static bool in_file(const Elf *e, uint64_t off, uint64_t len) {
  return off <= e->n && len <= e->n - off;
}

/* NULL when obj is a little-endian ELF relocatable object whose section
 * headers lie in it; else why not. */
static const char *elf_open(Elf *e, const void *obj, size_t n) {
  const unsigned char *b = obj;
  *e = (Elf){.b = b, .n = n};
  if (n < EI_NIDENT || memcmp(b, ELFMAG, SELFMAG)) return "no ELF magic";
  if (b[EI_CLASS] != ELFCLASS32 && b[EI_CLASS] != ELFCLASS64)
    return "unknown ELF class";
  if (b[EI_DATA] != ELFDATA2LSB) return "not little-endian";
  e->c = b[EI_CLASS] == ELFCLASS64;
  if (n < eh_size[e->c]) return "truncated ELF header";
  get_fields(b, eh_fields[e->c], EH_N, e->eh);
  if (e->eh[EH_TYPE] != ET_REL) return "not a relocatable object";
  /* e_shnum 0 means extended numbering (over 0xff00 sections): LLVM does
   * not emit that for tcc's handful of sections. */
  if (e->eh[EH_SHNUM] == 0 || e->eh[EH_SHSTRNDX] >= e->eh[EH_SHNUM])
    return "no section headers, or extended section numbering";
  if (e->eh[EH_SHENTSIZE] != sh_size[e->c]) return "unexpected e_shentsize";
  if (!in_file(e, e->eh[EH_SHOFF], e->eh[EH_SHNUM] * sh_size[e->c]))
    return "section headers past the end of the file";
  return NULL;
}

static void section(const Elf *e, uint64_t i, uint64_t *sh) {
  get_fields(e->b + e->eh[EH_SHOFF] + i * sh_size[e->c], sh_fields[e->c],
             SH_N, sh);
}

bool elf_sizes(const void *obj, size_t size, ElfSizes *out) {
  Elf e;
  if (elf_open(&e, obj, size)) return false;
  *out = (ElfSizes){0};
  for (uint64_t i = 0; i < e.eh[EH_SHNUM]; i++) {
    uint64_t sh[SH_N];
    section(&e, i, sh);
    if (!(sh[SH_FLAGS] & SHF_ALLOC)) continue;
    if (sh[SH_FLAGS] & SHF_WRITE) out->data += sh[SH_SIZE];
    else if (sh[SH_FLAGS] & SHF_EXECINSTR) out->code += sh[SH_SIZE];
    else out->rodata += sh[SH_SIZE];
  }
  return true;
}

int elf_class_bits(const void *obj, size_t size) {
  Elf e;
  if (elf_open(&e, obj, size)) return 0;
  return e.c ? 64 : 32;
}

/* ------------------------------------------------------------- attach */
/* The symbol table's place and its string table's bytes. */
typedef struct Symtab {
  uint64_t off, count;
  const char *str;
  uint64_t str_size;
} Symtab;

static const char *find_symtab(const Elf *e, Symtab *s) {
  for (uint64_t i = 0; i < e->eh[EH_SHNUM]; i++) {
    uint64_t sh[SH_N], str[SH_N];
    section(e, i, sh);
    if (sh[SH_TYPE] != SHT_SYMTAB) continue;
    if (sh[SH_ENTSIZE] != st_size[e->c] || !in_file(e, sh[SH_OFFSET], sh[SH_SIZE]) ||
        sh[SH_LINK] >= e->eh[EH_SHNUM])
      return "a malformed symbol table";
    section(e, sh[SH_LINK], str);
    if (str[SH_TYPE] != SHT_STRTAB || !in_file(e, str[SH_OFFSET], str[SH_SIZE]))
      return "a malformed symbol string table";
    *s = (Symtab){sh[SH_OFFSET], sh[SH_SIZE] / st_size[e->c],
                  (const char *)e->b + str[SH_OFFSET], str[SH_SIZE]};
    return NULL;
  }
  return "no symbol table";
}

/* The index of the first symbol named name, or 0 (index 0 is the null
 * symbol, never a name). */
static uint64_t find_symbol(const Elf *e, const Symtab *s, const char *name) {
  size_t len = strlen(name);
  for (uint64_t i = 1; i < s->count; i++) {
    uint64_t st[ST_N];
    get_fields(e->b + s->off + i * st_size[e->c], st_fields[e->c], ST_N, st);
    if (st[ST_NAME] < s->str_size && s->str_size - st[ST_NAME] > len &&
        !memcmp(s->str + st[ST_NAME], name, len + 1))
      return i;
  }
  return 0;
}

bool elf_has_symbol(const void *obj, size_t size, const char *name) {
  Elf e;
  Symtab s;
  return !elf_open(&e, obj, size) && !find_symtab(&e, &s) && find_symbol(&e, &s, name) != 0;
}

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }

/* The layout of the result, and whether it fits the class. */
typedef struct Layout {
  uint64_t blob_offset, names_offset, names_size, shoff, total;
} Layout;

static bool plan(const Elf *e, const uint64_t *shstr, const char *section_name,
                 uint64_t blob_size, unsigned align, Layout *l) {
  l->blob_offset = align_up(e->n, align);
  l->names_offset = l->blob_offset + blob_size;
  l->names_size = shstr[SH_SIZE] + strlen(section_name) + 1;
  l->shoff = align_up(l->names_offset + l->names_size, e->c ? 8 : 4);
  l->total = l->shoff + (e->eh[EH_SHNUM] + 1) * sh_size[e->c];
  uint64_t max = e->c ? UINT64_MAX : UINT32_MAX;
  /* blob_size is the caller's, any value; what follows the blob is small,
   * so a wrap past 2^64 shows as total < names_offset */
  return blob_size <= max - l->blob_offset && l->total >= l->names_offset &&
         l->total <= max;
}

/* The tail: the section-name table with section_name appended, padding,
 * then the section headers with the name table's moved and the new one. */
static unsigned char *make_tail(const Elf *e, const uint64_t *shstr,
                                const char *section_name, uint64_t blob_size,
                                unsigned align, const Layout *l, size_t *size) {
  *size = (size_t)(l->total - l->names_offset);
  unsigned char *t = calloc(*size, 1);
  IR_ASSERT(t);
  memcpy(t, e->b + shstr[SH_OFFSET], (size_t)shstr[SH_SIZE]);
  memcpy(t + shstr[SH_SIZE], section_name, strlen(section_name) + 1);
  unsigned char *hdrs = t + (l->shoff - l->names_offset);
  uint64_t nsec = e->eh[EH_SHNUM];
  memcpy(hdrs, e->b + e->eh[EH_SHOFF], (size_t)(nsec * sh_size[e->c]));
  uint64_t names[SH_N];
  memcpy(names, shstr, sizeof names);
  names[SH_OFFSET] = l->names_offset;
  names[SH_SIZE] = l->names_size;
  put_fields(hdrs + e->eh[EH_SHSTRNDX] * sh_size[e->c], sh_fields[e->c], SH_N,
             names);
  const uint64_t blob[SH_N] = {
      [SH_NAME] = shstr[SH_SIZE], [SH_TYPE] = SHT_PROGBITS,
      [SH_FLAGS] = SHF_ALLOC,     [SH_OFFSET] = l->blob_offset,
      [SH_SIZE] = blob_size,      [SH_ADDRALIGN] = align};
  put_fields(hdrs + nsec * sh_size[e->c], sh_fields[e->c], SH_N, blob);
  return t;
}

/* The checks on the symbol and the section count; false after a
 * diagnostic. */
static bool check_symbol(const Elf *e, const char *symbol, uint64_t *index) {
  Symtab s;
  const char *why = find_symtab(e, &s);
  if (why) {
    diag_error("internal error: cannot define %s: the object has %s", symbol, why);
    return false;
  }
  *index = find_symbol(e, &s, symbol);
  if (!*index) {
    diag_error("internal error: cannot define %s: the object has no such symbol",
               symbol);
    return false;
  }
  uint64_t st[ST_N];
  get_fields(e->b + s.off + *index * st_size[e->c], st_fields[e->c], ST_N, st);
  if (st[ST_SHNDX] != SHN_UNDEF) {
    diag_error("internal error: cannot define %s: the object defines it already",
               symbol);
    return false;
  }
  /* The new section's index is the old count; from SHN_LORESERVE up an
   * index means something else. */
  if (e->eh[EH_SHNUM] >= SHN_LORESERVE) {
    diag_error("internal error: cannot define %s: the object has %u sections, "
               "no room for another", symbol, (unsigned)e->eh[EH_SHNUM]);
    return false;
  }
  return true;
}

/* The symbol's entry in head: defined at the start of the new section. */
static void define_symbol(const Elf *e, unsigned char *head, uint64_t index,
                          uint64_t blob_size) {
  Symtab s;
  find_symtab(e, &s);
  unsigned char *p = head + s.off + index * st_size[e->c];
  uint64_t st[ST_N];
  get_fields(p, st_fields[e->c], ST_N, st);
  st[ST_SHNDX] = e->eh[EH_SHNUM];
  st[ST_VALUE] = 0;
  st[ST_SIZE] = blob_size;
  /* binding kept; an undefined symbol's type says nothing, data is OBJECT */
  st[ST_INFO] = ELF32_ST_INFO(ELF32_ST_BIND(st[ST_INFO]), STT_OBJECT);
  put_fields(p, st_fields[e->c], ST_N, st);
}

bool elf_attach_blob(const void *obj, size_t size, const char *symbol,
                     const char *section_name, uint64_t blob_size,
                     unsigned align, ElfWithBlob *out) {
  IR_ASSERT(align && !(align & (align - 1)));
  Elf e;
  const char *why = elf_open(&e, obj, size);
  if (why) {
    diag_error("internal error: cannot define %s: the object is not a "
               "little-endian ELF relocatable object (%s)", symbol, why);
    return false;
  }
  uint64_t index, shstr[SH_N];
  if (!check_symbol(&e, symbol, &index)) return false;
  section(&e, e.eh[EH_SHSTRNDX], shstr);
  if (shstr[SH_TYPE] != SHT_STRTAB || !in_file(&e, shstr[SH_OFFSET], shstr[SH_SIZE])) {
    diag_error("internal error: cannot define %s: the object's section-name "
               "table is malformed", symbol);
    return false;
  }
  Layout l;
  if (!plan(&e, shstr, section_name, blob_size, align, &l)) {
    diag_error("cannot define %s: %llu bytes in section %s after %zu bytes of "
               "code and tables do not fit an ELF%d object (at most %llu bytes)",
               symbol, (unsigned long long)blob_size, section_name, size,
               e.c ? 64 : 32, e.c ? (unsigned long long)UINT64_MAX : UINT32_MAX);
    return false;
  }
  unsigned char *head = malloc(size);
  IR_ASSERT(head);
  memcpy(head, obj, size);
  define_symbol(&e, head, index, blob_size);
  uint64_t eh[EH_N];
  memcpy(eh, e.eh, sizeof eh);
  eh[EH_SHOFF] = l.shoff;
  eh[EH_SHNUM]++;
  put_fields(head, eh_fields[e.c], EH_N, eh);
  *out = (ElfWithBlob){.head = head, .head_size = size,
                       .blob_offset = l.blob_offset, .blob_size = blob_size,
                       .total_size = l.total};
  out->tail = make_tail(&e, shstr, section_name, blob_size, align, &l,
                        &out->tail_size);
  return true;
}

void elf_with_blob_free(ElfWithBlob *w) {
  free(w->head);
  free(w->tail);
  *w = (ElfWithBlob){0};
}

/* ------------------------------------------------------------- output */
/* The file in order, as runs of bytes (data NULL: zeros) handed to put; the
 * one walk behind both writers, so they cannot disagree. */
typedef bool (*PutFn)(void *user, const void *data, uint64_t n);

static bool walk(const ElfWithBlob *w, const ElfBlobPiece *pieces, int num,
                 PutFn put, void *user) {
  if (!put(user, w->head, w->head_size) ||
      !put(user, NULL, w->blob_offset - w->head_size))
    return false;
  uint64_t at = 0; /* within the blob */
  for (int i = 0; i < num; i++) {
    const ElfBlobPiece *p = &pieces[i];
    IR_ASSERT(p->offset >= at && p->nbytes <= w->blob_size - p->offset);
    if (!put(user, NULL, p->offset - at) || !put(user, p->data, p->nbytes))
      return false;
    at = p->offset + p->nbytes;
  }
  return put(user, NULL, w->blob_size - at) && put(user, w->tail, w->tail_size);
}

static bool put_file(void *user, const void *data, uint64_t n) {
  static const unsigned char zeros[4096];
  FILE *f = user;
  if (data) return !n || fwrite(data, 1, (size_t)n, f) == n;
  for (; n; ) {
    size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
    if (fwrite(zeros, 1, k, f) != k) return false;
    n -= k;
  }
  return true;
}

bool elf_write_with_blob(FILE *f, const ElfWithBlob *w,
                         const ElfBlobPiece *pieces, int num_pieces) {
  return walk(w, pieces, num_pieces, put_file, f);
}

static bool put_mem(void *user, const void *data, uint64_t n) {
  unsigned char **at = user;
  if (data) memcpy(*at, data, (size_t)n);
  else memset(*at, 0, (size_t)n);
  *at += n;
  return true;
}

void *elf_flatten_with_blob(const ElfWithBlob *w, const ElfBlobPiece *pieces,
                            int num_pieces) {
  if (w->total_size > SIZE_MAX) return NULL;
  unsigned char *buf = malloc(w->total_size ? (size_t)w->total_size : 1);
  if (!buf) return NULL;
  unsigned char *at = buf;
  walk(w, pieces, num_pieces, put_mem, &at);
  return buf;
}
